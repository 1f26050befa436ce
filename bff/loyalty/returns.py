"""Returns at the till: goods brought back against a receipt take back the points that part
of the purchase earned, once per return id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError

from bff import events
from bff.errors import DomainError, ErrorCode
from bff.loyalty import ledger, tiers
from bff.loyalty.models import Card, EntryKind, PointsEntry, Purchase, PurchaseReturn
from bff.loyalty.purchases import body_fingerprint, occurrence
from bff.settings import Settings


@dataclass(frozen=True)
class ReturnRequest:
    """A return as the store sent it; `occurred_at` None means "now"."""

    return_id: str
    receipt_id: str
    amount: Decimal
    occurred_at: datetime | None = None

    def fingerprint(self) -> str:
        """SHA-256 of the canonical body: equal for the same return sent again."""
        return body_fingerprint(
            {
                "returnId": self.return_id,
                "receiptId": self.receipt_id,
                "amount": str(self.amount.normalize()),
                "occurredAt": self.occurred_at.astimezone(UTC).isoformat()
                if self.occurred_at
                else None,
            }
        )


@dataclass(frozen=True)
class ReturnResult:
    return_id: str
    points_returned: int
    points_shortfall: int
    created: bool

    @classmethod
    def of(cls, row: PurchaseReturn, *, created: bool) -> ReturnResult:
        return cls(
            return_id=row.return_id,
            points_returned=row.points_returned,
            points_shortfall=row.points_shortfall,
            created=created,
        )


async def purchase_multiplier(purchase: Purchase) -> Decimal:
    """The tier multiplier the purchase earned with, as its EARN entry records it (1 for a
    purchase that earned nothing, or was recorded before tiers)."""
    earn = await PointsEntry.filter(purchase_id=purchase.id, kind=EntryKind.EARN).first()
    return earn.multiplier if earn is not None and earn.multiplier is not None else Decimal(1)


def points_due_back(
    *, purchase: Purchase, returned_total: Decimal, multiplier: Decimal, units_per_point: Decimal
) -> int:
    """What returns of `returned_total` in all take back from the purchase: floor(returned /
    units per point x the purchase's multiplier), at most what it earned. Counted on the
    running total, so two halves take back what the whole would."""
    due = ledger.points_for_total(
        returned_total, units_per_point=units_per_point, multiplier=multiplier
    )
    return min(due, purchase.points_earned)


async def record_return(
    *, request: ReturnRequest, settings: Settings, now: datetime | None = None
) -> ReturnResult:
    """Record the return once: the same body again gives the first answer (created=False),
    another body under the same return id is IDEMPOTENCY_CONFLICT. RECEIPT_NOT_FOUND;
    RETURN_EXCEEDS_PURCHASE when more than what is left of the purchase comes back.

    Returns of one receipt take turns on its card's row lock (the order purchases and linking
    lock in: card, then member), and a duplicate that waited there answers from the row the
    first one wrote; the unique return id settles duplicates against different receipts.
    """
    now = now or datetime.now(UTC)
    occurred_at = occurrence(request.occurred_at, now=now, settings=settings)
    fingerprint = request.fingerprint()
    replay = await _replay(request.return_id, fingerprint)
    if replay is not None:
        return replay
    try:
        async with events.transaction():
            return await _record(
                request=request,
                fingerprint=fingerprint,
                occurred_at=occurred_at,
                settings=settings,
                now=now,
            )
    except IntegrityError:
        replay = await _replay(request.return_id, fingerprint)
        if replay is None:
            raise
        return replay


async def _replay(return_id: str, fingerprint: str) -> ReturnResult | None:
    existing = await PurchaseReturn.get_or_none(return_id=return_id)
    if existing is None:
        return None
    if existing.request_fingerprint != fingerprint:
        raise DomainError(
            ErrorCode.IDEMPOTENCY_CONFLICT,
            "This return id was already recorded with another body.",
            field="returnId",
        )
    return ReturnResult.of(existing, created=False)


async def _record(
    *,
    request: ReturnRequest,
    fingerprint: str,
    occurred_at: datetime,
    settings: Settings,
    now: datetime,
) -> ReturnResult:
    found = await Purchase.filter(receipt_id=request.receipt_id).only("id", "card_id").first()
    if found is None:
        raise DomainError(
            ErrorCode.RECEIPT_NOT_FOUND, "No purchase has this receipt id.", field="receiptId"
        )
    await Card.select_for_update().filter(id=found.card_id).only("id")
    # A duplicate that waited for the lock finds the first one's row now.
    replay = await _replay(request.return_id, fingerprint)
    if replay is not None:
        return replay
    # Read under the card lock: linking (which moves a card's own purchases to the member)
    # takes it too, so the owner read here holds until the commit.
    purchase = await Purchase.get(id=found.id)
    if occurred_at < purchase.occurred_at:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "occurredAt is before the purchase.", field="occurredAt"
        )
    left = purchase.total - purchase.returned_total
    if request.amount > left:
        raise DomainError(
            ErrorCode.RETURN_EXCEEDS_PURCHASE,
            f"At most {left} of this purchase is left to return.",
            field="amount",
        )
    returned_total = purchase.returned_total + request.amount
    earlier = await PurchaseReturn.filter(purchase_id=purchase.id).values_list(
        "points_returned", "points_shortfall"
    )
    claimed_before = sum(taken + shortfall for taken, shortfall in earlier)
    due = points_due_back(
        purchase=purchase,
        returned_total=returned_total,
        multiplier=await purchase_multiplier(purchase),
        units_per_point=settings.currency_units_per_point,
    )
    points = max(due - claimed_before, 0)
    owner = _owner(purchase)
    if owner is not None:
        await owner.lock()
        await ledger.expire_due(owner=owner, now=now)
    member_id = owner.member_id if owner is not None else None
    if member_id is not None:
        # The month's tier is fixed from the spend before the return, so it never drops
        # mid-month; the evaluation after it counts the lower spend (SPEC.md "Tiers").
        await tiers.reevaluate(member_id=member_id, now=now, settings=settings)
    taken = 0
    if owner is not None and points:
        taken = await ledger.take_back(
            owner=owner,
            points=points,
            purchase=purchase,
            card_id=purchase.card_id,
            occurred_at=occurred_at,
            now=now,
        )
    row = await PurchaseReturn.create(
        return_id=request.return_id,
        request_fingerprint=fingerprint,
        purchase_id=purchase.id,
        amount=request.amount,
        occurred_at=occurred_at,
        points_returned=taken,
        points_shortfall=points - taken,
        recorded_at=now,
    )
    await Purchase.filter(id=purchase.id).update(
        returned_total=returned_total, points_returned=purchase.points_returned + taken
    )
    if member_id is not None:
        await tiers.reevaluate(member_id=member_id, now=now, settings=settings)
        events.publish_after_commit(events.points_balance_changed(member_id))
    return ReturnResult.of(row, created=True)


def _owner(purchase: Purchase) -> ledger.PointsOwner | None:
    """Whose points the purchase earned: its member's, or its card's own while unlinked; None
    for a closed account's purchase (its points were forfeited with the account)."""
    if purchase.detached:
        return None
    if purchase.member_id is not None:
        return ledger.PointsOwner(member_id=purchase.member_id)
    return ledger.PointsOwner(card_id=purchase.card_id)
