"""The points ledger: owners, expiry, redemption and the balance buckets.

Points belong to an owner: a member, or an unlinked card on its own (rows with that card and
no member). Linking a card hands its own rows to the member. Every change is an entry; lots
track what each earning has left, so the balance is both the sum of the entries and the sum of
what the lots have left.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from tortoise.expressions import F
from tortoise.queryset import QuerySet

from bff import events
from bff.db.paging import keyset_page
from bff.db.sql import IS_NULL, Parameters, Where, python_time
from bff.errors import DomainError, ErrorCode
from bff.identity.models import Member
from bff.loyalty.models import Card, EntryKind, PointsDraw, PointsEntry, PointsLot, Purchase


@dataclass(frozen=True)
class PointsOwner:
    """Whose points: a member's, or an unlinked card's own."""

    member_id: int | None = None
    card_id: int | None = None

    def __post_init__(self) -> None:
        if (self.member_id is None) == (self.card_id is None):
            raise ValueError("points belong to a member or to a card's own, exactly one of them")

    @classmethod
    def of_card(cls, card: Card) -> PointsOwner:
        if card.member_id is not None:
            return cls(member_id=card.member_id)
        return cls(card_id=card.id)

    def rows(self) -> Where:
        """The owner's rows of purchases, entries and lots (a card's own: no member, and not
        left behind by a closed account)."""
        if self.member_id is not None:
            return Where.of("member_id", "=", self.member_id)
        return (
            Where.of("card_id", "=", self.card_id)
            & Where.of("member_id", IS_NULL)
            & Where.of("detached", "=", False)  # noqa: FBT003 (a column value)
        )

    @property
    def key(self) -> tuple[str, int]:
        """The column and value that tell this owner's rows apart in an aggregate."""
        if self.member_id is not None:
            return "member_id", self.member_id
        if self.card_id is not None:
            return "card_id", self.card_id
        raise ValueError("a points owner is a member or a card")

    def lots(self) -> QuerySet[PointsLot]:
        return PointsLot.filter(self.rows().q())

    async def lock(self) -> None:
        """Lock the owning row until the transaction ends, so that writers of these points take
        turns (PostgreSQL `FOR UPDATE`; SQLite runs one write transaction at a time anyway)."""
        # `.only()`, never `.values_list()`: Tortoise silently drops FOR UPDATE from the latter.
        if self.member_id is not None:
            await Member.select_for_update().filter(id=self.member_id).only("id")
        else:
            await Card.select_for_update().filter(id=self.card_id).only("id")


# The rules of a lot's points, each written once: the ORM paths filter with `.q()`, the balance
# aggregate reads the same definitions as SQL.


def with_points() -> Where:
    """A lot with points left."""
    return Where.of("remaining", ">", 0)


def due(now: datetime) -> Where:
    """A lot whose lifetime has ended with points left: they expire (an EXPIRE entry)."""
    return with_points() & Where.of("expires_at", "<=", now)


def pending(now: datetime) -> Where:
    """Points still inside the return window: counted, not yet redeemable."""
    return with_points() & Where.of("available_at", ">", now)


def available(now: datetime) -> Where:
    """Points past the return window and before expiry: redeemable now."""
    return with_points() & Where.of("available_at", "<=", now) & Where.of("expires_at", ">", now)


def expiring(now: datetime, *, within: timedelta) -> Where:
    """Available points that expire within `within`."""
    return available(now) & Where.of("expires_at", "<=", now + within)


@dataclass(frozen=True)
class Balance:
    available: int
    pending: int
    expiring_soon: int
    next_expiry_at: datetime | None
    lifetime_earned: int
    spent: int
    expired: int
    forfeited: int
    adjusted: int
    returned: int

    @classmethod
    def of(
        cls,
        *,
        available: int,
        pending: int,
        expiring_soon: int,
        next_expiry_at: datetime | None,
        sums: dict[EntryKind, int],
    ) -> Balance:
        """The buckets from the lots, the totals from the entries' sums by kind."""
        return cls(
            available=available,
            pending=pending,
            expiring_soon=expiring_soon,
            next_expiry_at=next_expiry_at,
            lifetime_earned=sums.get(EntryKind.EARN, 0),
            # Net of refunds: a cancelled coupon's points were not spent after all.
            spent=-sums.get(EntryKind.REDEEM, 0) - sums.get(EntryKind.REFUND, 0),
            expired=-sums.get(EntryKind.EXPIRE, 0),
            forfeited=-sums.get(EntryKind.FORFEIT, 0),
            adjusted=sums.get(EntryKind.ADJUST, 0),
            returned=-sums.get(EntryKind.RETURN, 0),
        )


def points_for_total(
    total: Decimal, *, units_per_point: Decimal, multiplier: Decimal = Decimal(1)
) -> int:
    """1 point per full `units_per_point` of the total, times the tier's multiplier, rounded
    down: floor(total x multiplier / units_per_point), exact in Decimal."""
    return int(total * multiplier // units_per_point)


def _portions(remaining: Sequence[int], points: int) -> list[int]:
    """How many points to take from each lot, in the order given (soonest-expiring first),
    until `points` are taken or the lots run out."""
    taken: list[int] = []
    wanted = points
    for left in remaining:
        taken.append(min(left, wanted))
        wanted -= taken[-1]
    return taken


async def _take_from(lots: Sequence[PointsLot], points: int) -> list[tuple[PointsLot, int]]:
    """Take up to `points` from `lots` in the order given; each lot drawn from, with the points
    taken from it."""
    portions = _portions([lot.remaining for lot in lots], points)
    drawn = [(lot, taken) for lot, taken in zip(lots, portions, strict=True) if taken]
    for lot, taken in drawn:
        if taken < lot.remaining:
            await PointsLot.filter(id=lot.id).update(remaining=lot.remaining - taken)
    emptied = [lot.id for lot, taken in drawn if taken == lot.remaining]
    if emptied:
        await PointsLot.filter(id__in=emptied).update(remaining=0)
    return drawn


async def expire_due(*, owner: PointsOwner, now: datetime) -> None:
    """Write an EXPIRE entry for every lot whose lifetime has ended with points left.

    Call inside a transaction that holds the owner's lock: then expiry never waits for a job,
    and two readers never expire the same lot twice.
    """
    lots = await owner.lots().filter(due(now).q()).order_by("expires_at", "id")
    if not lots:
        return
    await PointsEntry.bulk_create(
        [
            PointsEntry(
                member_id=lot.member_id,
                card_id=lot.card_id,
                kind=EntryKind.EXPIRE,
                amount=-lot.remaining,
                occurred_at=lot.expires_at,
            )
            for lot in lots
        ]
    )
    await PointsLot.filter(id__in=[lot.id for lot in lots]).update(remaining=0)
    if owner.member_id is not None:
        events.publish_after_commit(events.points_balance_changed(owner.member_id))


async def redeem(
    *, owner: PointsOwner, points: int, purchase: Purchase, card: Card, now: datetime
) -> PointsEntry:
    """Take `points` at the till (see `spend`); INSUFFICIENT_POINTS names `pointsToRedeem`."""
    return await spend(
        owner=owner,
        points=points,
        now=now,
        occurred_at=purchase.occurred_at,
        card_id=card.id,
        purchase_id=purchase.id,
        field="pointsToRedeem",
    )


async def spend(
    *,
    owner: PointsOwner,
    points: int,
    now: datetime,
    occurred_at: datetime,
    card_id: int | None = None,
    purchase_id: int | None = None,
    reward_id: int | None = None,
    field: str | None = None,
) -> PointsEntry:
    """A REDEEM entry taking `points` from the available lots that expire soonest, each draw
    recorded (so a refund can put it back); INSUFFICIENT_POINTS when they hold fewer. Call
    inside a transaction holding the owner's lock, after `expire_due`."""
    lots = await owner.lots().filter(available(now).q()).order_by("expires_at", "id")
    if sum(lot.remaining for lot in lots) < points:
        raise DomainError(
            ErrorCode.INSUFFICIENT_POINTS, "Not enough available points.", field=field
        )
    entry = await PointsEntry.create(
        member_id=owner.member_id,
        card_id=card_id,
        kind=EntryKind.REDEEM,
        amount=-points,
        occurred_at=occurred_at,
        purchase_id=purchase_id,
        reward_id=reward_id,
    )
    draws = [
        PointsDraw(entry_id=entry.id, lot_id=lot.id, points=taken)
        for lot, taken in await _take_from(lots, points)
    ]
    if draws:
        await PointsDraw.bulk_create(draws)
    return entry


async def refund(*, owner: PointsOwner, spent: PointsEntry, now: datetime) -> PointsEntry:
    """Give back what the REDEEM entry `spent` took: a REFUND entry, and each lot it drew from
    gets its points back with the lot's own expiry; points whose expiry has passed meanwhile
    expire at once (an EXPIRE entry). Call inside a transaction holding the owner's lock."""
    entry = await PointsEntry.create(
        member_id=owner.member_id,
        card_id=spent.card_id,
        kind=EntryKind.REFUND,
        amount=-spent.amount,
        occurred_at=now,
        reward_id=spent.reward_id,
    )
    for draw in await PointsDraw.filter(entry_id=spent.id).order_by("id"):
        await PointsLot.filter(id=draw.lot_id).update(remaining=F("remaining") + draw.points)
    await expire_due(owner=owner, now=now)
    return entry


async def take_back(
    *,
    owner: PointsOwner,
    points: int,
    purchase: Purchase,
    card_id: int,
    occurred_at: datetime,
    now: datetime,
) -> int:
    """Take back up to `points` that a returned purchase earned: pending points first, then
    available ones; in each, the purchase's own lot first, then the soonest-expiring. Never
    below zero: answers the points taken (fewer when the owner has spent them) and writes a
    RETURN entry for them. Call inside a transaction holding the owner's lock, after
    `expire_due`."""
    own_lot = await PointsLot.filter(earn_entry__purchase_id=purchase.id).first()
    taken = 0
    for bucket in (pending(now), available(now)):
        lots = await owner.lots().filter(bucket.q()).order_by("expires_at", "id")
        # A stable sort: the purchase's own lot first, the others still soonest-expiring first.
        lots.sort(key=lambda lot: own_lot is None or lot.id != own_lot.id)
        taken += sum(drawn for _, drawn in await _take_from(lots, points - taken))
    if taken:
        await PointsEntry.create(
            member_id=owner.member_id,
            card_id=card_id,
            kind=EntryKind.RETURN,
            amount=-taken,
            occurred_at=occurred_at,
            purchase_id=purchase.id,
        )
    return taken


async def earn(
    *,
    owner: PointsOwner,
    points: int,
    purchase: Purchase,
    card: Card,
    return_window: timedelta,
    lifetime: timedelta,
    multiplier: Decimal,
) -> PointsEntry:
    """An EARN entry (recording the tier multiplier applied) and its lot: pending for the
    return window, gone after the lifetime."""
    entry = await PointsEntry.create(
        member_id=owner.member_id,
        card_id=card.id,
        kind=EntryKind.EARN,
        amount=points,
        multiplier=multiplier,
        occurred_at=purchase.occurred_at,
        purchase_id=purchase.id,
    )
    await PointsLot.create(
        member_id=owner.member_id,
        card_id=card.id,
        earn_entry_id=entry.id,
        amount=points,
        remaining=points,
        available_at=purchase.occurred_at + return_window,
        expires_at=purchase.occurred_at + lifetime,
    )
    return entry


async def forfeit_all(*, owner: PointsOwner, now: datetime) -> int:
    """Forfeit every point left (pending or available) with a FORFEIT entry per card the lots
    were earned on, so a card's rows still add up if they ever change owner; the points."""
    await expire_due(owner=owner, now=now)
    lots = await owner.lots().filter(with_points().q()).values_list("id", "card_id", "remaining")
    per_card: dict[int, int] = defaultdict(int)
    for _, card_id, remaining in lots:
        per_card[card_id] += remaining
    if per_card:
        await PointsEntry.bulk_create(
            [
                PointsEntry(
                    member_id=owner.member_id,
                    card_id=card_id,
                    kind=EntryKind.FORFEIT,
                    amount=-points,
                    occurred_at=now,
                )
                for card_id, points in sorted(per_card.items())
            ]
        )
        await PointsLot.filter(id__in=[lot_id for lot_id, _, _ in lots]).update(remaining=0)
    return sum(per_card.values())


async def settle_expiries(*, owner: PointsOwner, now: datetime) -> None:
    """Materialise due expiries before reading history: a cheap check, then the locked write."""
    if not await owner.lots().filter(due(now).q()).exists():
        return
    async with events.transaction():
        await owner.lock()
        await expire_due(owner=owner, now=now)


async def history_page(
    *, member_id: int, first: int, after: tuple[str, int] | None, now: datetime
) -> list[PointsEntry]:
    """`first + 1` of the member's entries, newest first, after the cursor position `after`
    (the extra one says whether there is a next page); due expiries are written first, so the
    history shows them."""
    await settle_expiries(owner=PointsOwner(member_id=member_id), now=now)
    queryset = PointsEntry.filter(member_id=member_id)
    return await keyset_page(
        queryset, field="occurred_at", after=after, first=first, descending=True
    )


async def read_balance(*, owner: PointsOwner, now: datetime, expiring_soon: timedelta) -> Balance:
    """The balance as of `now`, with due expiries written first, all under the owner's lock."""
    async with events.transaction():
        await owner.lock()
        await expire_due(owner=owner, now=now)
        group_by, key = owner.key
        found = await _aggregate(group_by, owner.rows(), now=now, expiring_soon=expiring_soon)
        balance, _ = found.get(key, (_NO_POINTS, 0))
        return balance


async def read_balances(
    *, member_ids: list[int], now: datetime, expiring_soon: timedelta
) -> dict[int, Balance]:
    """The balances of many members in one aggregate statement, without a lock. A member with a
    due expiry not yet written takes `read_balance` (lock, expire, aggregate) instead, so the
    answer is the same as `read_balance`'s; that happens once per expiry, at the first read."""
    owners = Where.of("member_id", "IN", member_ids)
    found = await _aggregate("member_id", owners, now=now, expiring_soon=expiring_soon)
    balances = {}
    for member_id in member_ids:
        balance, due_lots = found.get(member_id, (_NO_POINTS, 0))
        if due_lots:
            balance = await read_balance(
                owner=PointsOwner(member_id=member_id), now=now, expiring_soon=expiring_soon
            )
        balances[member_id] = balance
    return balances


_NO_POINTS = Balance.of(available=0, pending=0, expiring_soon=0, next_expiry_at=None, sums={})


async def _aggregate(
    group_by: str, owners: Where, *, now: datetime, expiring_soon: timedelta
) -> dict[int, tuple[Balance, int]]:
    """For each value of `group_by` (member_id, or card_id for cards' own points) among the
    `owners` rows: the balance, its buckets from the lots and its totals from the entries, and
    how many of its lots are due (their EXPIRE entries not yet written).

    Hand-written SQL: on every dashboard and home screen, Tortoise's building of these filtered
    aggregates cost several times the queries themselves. The conditions are the rules above.
    """
    client = PointsLot._meta.db  # noqa: SLF001 (Tortoise metadata)
    parameters = Parameters(client)

    def lots(rule: Where) -> str:
        return rule.sql(PointsLot, parameters)

    # One statement, so the buckets (lots) and the totals (entries) come from one snapshot even
    # while receipts commit: two statements would each see their own moment (READ COMMITTED).
    # The markers are numbered as the f-string is evaluated, left to right.
    rows = await client.execute_query_dict(
        f"""
        SELECT "{group_by}" AS owner_id, NULL AS kind,
          SUM(CASE WHEN {lots(available(now))} THEN remaining END) AS available,
          SUM(CASE WHEN {lots(pending(now))} THEN remaining END) AS pending,
          SUM(CASE WHEN {lots(expiring(now, within=expiring_soon))} THEN remaining END) AS soon,
          MIN(CASE WHEN {lots(available(now))} THEN expires_at END) AS next_expiry,
          COUNT(CASE WHEN {lots(due(now))} THEN id END) AS due
        FROM points_lot WHERE {lots(with_points() & owners)} GROUP BY "{group_by}"
        UNION ALL
        SELECT "{group_by}", kind, SUM(amount), NULL, NULL, NULL, NULL
        FROM points_entry WHERE {owners.sql(PointsEntry, parameters)} GROUP BY "{group_by}", kind
        """,  # noqa: S608 (columns are the model's, values are parameters)
        parameters.values,
    )
    buckets = {row["owner_id"]: row for row in rows if row["kind"] is None}
    sums: dict[int, dict[EntryKind, int]] = defaultdict(dict)
    for row in rows:
        if row["kind"] is not None:
            sums[row["owner_id"]][EntryKind(row["kind"])] = int(row["available"] or 0)
    found = {}
    for key in buckets.keys() | sums.keys():
        row = buckets.get(key, {})
        balance = Balance.of(
            available=int(row.get("available") or 0),
            pending=int(row.get("pending") or 0),
            expiring_soon=int(row.get("soon") or 0),
            next_expiry_at=python_time(PointsLot, "expires_at", row.get("next_expiry")),
            sums=sums[key],
        )
        found[key] = (balance, int(row.get("due") or 0))
    return found
