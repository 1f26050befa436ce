"""Recording a till receipt (once per receipt id, earning and redeeming in one transaction) and
reading the purchases back a page at a time."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from tortoise.exceptions import IntegrityError

from bff import events, outbox
from bff.db.paging import cursor_position
from bff.db.windowed import first_rows_per_group
from bff.errors import DomainError, ErrorCode
from bff.identity.models import Member
from bff.loyalty import ledger, rewards, tiers
from bff.loyalty.models import Card, CardStatus, Purchase
from bff.offers.services import use_offers
from bff.outbox import MessageKind
from bff.settings import Settings


@dataclass(frozen=True)
class PurchaseRequest:
    """A receipt as the store sent it; `occurred_at` None means "now"."""

    receipt_id: str
    card_number: str
    store_id: str
    total: Decimal
    occurred_at: datetime | None = None
    points_to_redeem: int = 0
    coupon_codes: tuple[str, ...] = ()
    offer_ids: tuple[int, ...] = ()

    def fingerprint(self) -> str:
        """SHA-256 of the canonical body: equal for the same receipt sent again."""
        canonical: dict[str, object] = {
            "receiptId": self.receipt_id,
            "cardNumber": self.card_number,
            "storeId": self.store_id,
            "total": str(self.total.normalize()),
            "occurredAt": self.occurred_at.astimezone(UTC).isoformat()
            if self.occurred_at
            else None,
            "pointsToRedeem": self.points_to_redeem,
        }
        if self.coupon_codes:  # absent before coupons: earlier receipts keep their fingerprint
            canonical["couponCodes"] = sorted(set(self.coupon_codes))
        # Only when present: receipts recorded before offers applied keep their fingerprint.
        if self.offer_ids:
            canonical["offerIds"] = list(self.offer_ids)
        return body_fingerprint(canonical)


def body_fingerprint(canonical: dict[str, object]) -> str:
    """SHA-256 of a request's canonical body (keys sorted, no spaces): a retry of the same
    request has the same one, so an idempotency key sent with another body is told apart."""
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def occurrence(requested: datetime | None, *, now: datetime, settings: Settings) -> datetime:
    """When a till event happened: as sent, or now; INVALID_INPUT when ahead of the clock by
    more than `purchase_clock_skew`."""
    occurred_at = requested or now
    if occurred_at > now + settings.purchase_clock_skew:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "occurredAt is in the future.", field="occurredAt"
        )
    return occurred_at


@dataclass(frozen=True)
class AppliedOffer:
    """An offer the till applied to a purchase, as it was then."""

    offer_id: int
    title: str
    discount_percent: int | None


@dataclass(frozen=True)
class PurchaseResult:
    receipt_id: str
    points_earned: int
    points_redeemed: int
    created: bool
    coupons_used: tuple[rewards.UsedCoupon, ...] = ()
    offers_applied: tuple[AppliedOffer, ...] = ()

    @classmethod
    def of(
        cls,
        purchase: Purchase,
        *,
        created: bool,
        coupons_used: tuple[rewards.UsedCoupon, ...] = (),
    ) -> PurchaseResult:
        return cls(
            receipt_id=purchase.receipt_id,
            points_earned=purchase.points_earned,
            points_redeemed=purchase.points_redeemed,
            created=created,
            coupons_used=coupons_used,
            offers_applied=tuple(
                AppliedOffer(
                    offer_id=applied["offerId"],
                    title=applied["title"],
                    discount_percent=applied["discountPercent"],
                )
                for applied in purchase.offers_applied or ()
            ),
        )


async def record_purchase(
    *, request: PurchaseRequest, settings: Settings, now: datetime | None = None
) -> PurchaseResult:
    """Record the receipt once: the same body again gives the first answer (created=False),
    another body under the same receipt id is IDEMPOTENCY_CONFLICT.

    Concurrent duplicates are settled by the unique receipt id: the loser's insert fails, its
    transaction rolls back, and it answers from the winner's row.
    """
    now = now or datetime.now(UTC)
    occurred_at = occurrence(request.occurred_at, now=now, settings=settings)
    fingerprint = request.fingerprint()
    replay = await _replay(request, fingerprint)
    if replay is not None:
        return replay
    try:
        async with events.transaction():
            purchase = await _record(
                request=request,
                fingerprint=fingerprint,
                occurred_at=occurred_at,
                settings=settings,
                now=now,
            )
    except IntegrityError:
        replay = await _replay(request, fingerprint)
        if replay is None:
            raise
        return replay
    return PurchaseResult.of(
        purchase, created=True, coupons_used=await _coupons_used(request, purchase.id)
    )


async def _replay(request: PurchaseRequest, fingerprint: str) -> PurchaseResult | None:
    existing = await Purchase.get_or_none(receipt_id=request.receipt_id)
    if existing is None:
        return None
    if existing.request_fingerprint != fingerprint:
        raise DomainError(
            ErrorCode.IDEMPOTENCY_CONFLICT,
            "This receipt id was already recorded with another body.",
            field="receiptId",
        )
    return PurchaseResult.of(
        existing, created=False, coupons_used=await _coupons_used(request, existing.id)
    )


async def _record(
    *,
    request: PurchaseRequest,
    fingerprint: str,
    occurred_at: datetime,
    settings: Settings,
    now: datetime,
) -> Purchase:
    # The card row first, then the member row: the same order as linking, so no deadlock.
    card = await Card.select_for_update().get_or_none(number=request.card_number)
    if card is None:
        raise DomainError(ErrorCode.CARD_NOT_FOUND, "No card has this number.", field="cardNumber")
    if card.status is CardStatus.INACTIVE:
        raise DomainError(ErrorCode.CARD_INACTIVE, "This card is deactivated.", field="cardNumber")
    owner = ledger.PointsOwner.of_card(card)
    await owner.lock()
    await ledger.expire_due(owner=owner, now=now)
    # The tier held when the purchase occurs sets its multiplier (a card's own points: the
    # lowest tier's); the purchase itself counts towards the next evaluation, below.
    multiplier = tiers.program_tiers(settings)[0].multiplier
    held_tier = None
    if card.member_id is not None:
        held = await tiers.reevaluate(member_id=card.member_id, now=now, settings=settings)
        multiplier = held.tier.multiplier
        held_tier = held.tier.code
    earned = ledger.points_for_total(
        request.total, units_per_point=settings.currency_units_per_point, multiplier=multiplier
    )
    offers_applied = await _apply_offers(
        request=request, card=card, tier=held_tier, occurred_at=occurred_at
    )
    purchase = await Purchase.create(
        receipt_id=request.receipt_id,
        request_fingerprint=fingerprint,
        card_id=card.id,
        member_id=card.member_id,
        store_id=request.store_id,
        total=request.total,
        occurred_at=occurred_at,
        points_earned=earned,
        points_redeemed=request.points_to_redeem,
        recorded_at=now,
        offers_applied=offers_applied,
    )
    await _use_coupons(request=request, card=card, purchase=purchase, now=now)
    if request.points_to_redeem:
        await ledger.redeem(
            owner=owner, points=request.points_to_redeem, purchase=purchase, card=card, now=now
        )
    if earned:
        await ledger.earn(
            owner=owner,
            points=earned,
            purchase=purchase,
            card=card,
            return_window=settings.points_return_window,
            lifetime=settings.points_lifetime,
            multiplier=multiplier,
        )
    if card.last_used_at is None or card.last_used_at < occurred_at:
        await Card.filter(id=card.id).update(last_used_at=occurred_at)
    if card.member_id is not None:
        await tiers.reevaluate(member_id=card.member_id, now=now, settings=settings)
        events.publish_after_commit(events.points_balance_changed(card.member_id))
        if earned:
            await outbox.enqueue(
                member_id=card.member_id,
                kind=MessageKind.POINTS_CREDITED,
                params={"points": earned, "receiptId": request.receipt_id},
            )
    return purchase


async def _coupons_used(
    request: PurchaseRequest, purchase_id: int
) -> tuple[rewards.UsedCoupon, ...]:
    """What the receipt's coupons were (the same body, hence the same codes, on a replay); no
    query for the receipts that carry none."""
    return await rewards.coupons_used_by(purchase_id) if request.coupon_codes else ()


async def _use_coupons(
    *, request: PurchaseRequest, card: Card, purchase: Purchase, now: datetime
) -> None:
    """The receipt's coupons, burned in its transaction (a refusal refuses the whole receipt)."""
    if request.coupon_codes:
        await rewards.use_coupons(codes=request.coupon_codes, card=card, purchase=purchase, now=now)


async def _apply_offers(
    *, request: PurchaseRequest, card: Card, tier: tiers.TierCode | None, occurred_at: datetime
) -> list[dict[str, Any]] | None:
    """The offers the till applies for the card's member holding `tier` (their use recorded
    by the offers domain), as stored on the purchase; None when it sent none."""
    if not request.offer_ids:
        return None
    member = await Member.get(id=card.member_id) if card.member_id is not None else None
    offers = await use_offers(
        member=member,
        offer_ids=request.offer_ids,
        tiers=tiers.visible_tier_codes(tier),
        at=occurred_at,
    )
    return [
        {"offerId": offer.id, "title": offer.title, "discountPercent": offer.discount_percent}
        for offer in offers
    ]


class PageRequest(Protocol):
    """One page of a member's purchases, on one card or on all of them, after a cursor's
    (occurredAt, id) position or from the newest."""

    @property
    def member_id(self) -> int: ...
    @property
    def card_id(self) -> int | None: ...
    @property
    def first(self) -> int: ...
    @property
    def after(self) -> tuple[str, int] | None: ...


P = TypeVar("P", bound=PageRequest)


async def purchase_pages(*, requests: Sequence[P]) -> dict[P, list[Purchase]]:
    """For each request, `first + 1` purchases newest first, keyset by (occurredAt, id): stable
    while receipts arrive; the extra row only says whether there is a next page. A card's page
    holds the member's purchases on that card (not a previous holder's). INVALID_INPUT for a
    cursor with no possible position (see `cursor_position`).

    Pages that differ only in their card, or only in their member, come from one statement
    (`first_rows_per_group`: a window PARTITION BY card or member for several, a plain
    ORDER BY ... LIMIT for one): a screen listing every card costs one query.
    """
    positions = {request: _position(request) for request in requests}
    batches: dict[tuple[int | None, int, tuple[datetime, int] | None], list[P]] = defaultdict(list)
    for request, position in positions.items():
        per_card_of = request.member_id if request.card_id is not None else None
        batches[per_card_of, request.first, position].append(request)
    pages: dict[P, list[Purchase]] = {}
    for (per_card_of, first, position), batch in batches.items():
        if per_card_of is not None:
            group_by, equal = "card_id", {"member_id": per_card_of}
        else:
            group_by, equal = "member_id", {}
        found = await first_rows_per_group(
            Purchase,
            group_by=group_by,
            groups=sorted({_group(request) for request in batch}),
            equal=equal,
            order_by=[("occurred_at", True), ("id", True)],
            after=position,
            per_group=first + 1,
        )
        pages.update({request: found.get(_group(request), []) for request in batch})
    return pages


def _position(request: PageRequest) -> tuple[datetime, int] | None:
    return cursor_position(request.after) if request.after is not None else None


def _group(request: PageRequest) -> int:
    return request.card_id if request.card_id is not None else request.member_id
