"""Property tests of the ledger: random purchases, redemptions, returns, rewards bought and
cancelled, time passing, links, unlinks and opt-outs keep every points owner consistent with its
entries, its lots and the clock."""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bff.errors import DomainError
from bff.identity.models import Member
from bff.loyalty.cards import attach_card, issue_card, unlink_card
from bff.loyalty.ledger import Balance, PointsOwner, read_balance
from bff.loyalty.models import (
    Card,
    Coupon,
    EntryKind,
    PointsDraw,
    PointsEntry,
    PointsLot,
    Purchase,
    PurchaseReturn,
    Reward,
)
from bff.loyalty.program import join_program, leave_program
from bff.loyalty.purchases import PurchaseRequest, record_purchase
from bff.loyalty.returns import ReturnRequest, record_return
from bff.loyalty.rewards import cancel_coupon, publish_reward, redeem_reward
from tests.conftest import empty_tables
from tests.factories import create_member

CARDS = 3
MEMBERS = 2
REWARD_COSTS = (1, 5, 20, 60, 150)
START = datetime(2026, 1, 1, tzinfo=UTC)
_receipts = itertools.count(1)

buys = st.tuples(
    st.just("buy"),
    st.integers(min_value=0, max_value=CARDS - 1),
    st.integers(min_value=0, max_value=2000),  # total, whole units
    # age of the receipt in days: mostly past the return window and before expiry, or inside it
    st.one_of(
        st.integers(min_value=15, max_value=360),
        st.integers(min_value=0, max_value=13),
        st.integers(min_value=0, max_value=400),
    ),
    st.sampled_from([0, 1, 5, 20, 60]),  # points to redeem
)
rewards = st.tuples(
    st.just("reward"),
    st.integers(min_value=0, max_value=MEMBERS - 1),
    st.integers(min_value=0, max_value=len(REWARD_COSTS) - 1),
)
cancels = st.tuples(
    st.just("cancel"),
    st.integers(min_value=0, max_value=MEMBERS - 1),
    st.integers(min_value=0, max_value=5),  # which of the member's coupons, newest first
)
returns = st.tuples(
    st.just("return"),
    st.integers(min_value=0, max_value=50),  # which receipt (modulo those recorded)
    st.integers(min_value=1, max_value=2200),  # amount, whole units; may exceed what is left
)
operations = st.one_of(
    buys,
    buys,
    buys,  # purchases are what tills mostly send
    st.tuples(st.just("advance"), st.integers(min_value=0, max_value=400)),
    st.tuples(
        st.just("link"),
        st.integers(min_value=0, max_value=CARDS - 1),
        st.integers(min_value=0, max_value=MEMBERS - 1),
    ),
    st.tuples(st.just("unlink"), st.integers(min_value=0, max_value=CARDS - 1)),
    st.tuples(st.just("opt_out"), st.integers(min_value=0, max_value=MEMBERS - 1)),
    rewards,
    cancels,
    returns,
    returns,
)
# Members holding cards, spending on rewards and changing their minds as time passes.
spending = st.one_of(
    rewards,
    cancels,
    buys,
    st.tuples(st.just("advance"), st.integers(min_value=0, max_value=120)),
)
# Every run starts with earnings on each card, so that redemptions have lots to choose from.
opening = [("buy", card, 900 + 100 * card, 20 + 40 * card, 0) for card in range(CARDS)]
# Members holding some of them, so that rewards have points to be bought with.
linked = [("link", member, member) for member in range(MEMBERS)]


@dataclass
class World:
    members: list[Member]
    cards: list[Card]
    now: datetime = START
    owners: list[PointsOwner] = field(default_factory=list)
    rewards: list[Reward] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)


async def make_world(app_settings) -> World:
    await empty_tables()
    members = [await create_member() for _ in range(MEMBERS)]
    cards = [(await issue_card(settings=app_settings)).card for _ in range(CARDS)]
    owners = [PointsOwner(member_id=m.id) for m in members] + [
        PointsOwner(card_id=c.id) for c in cards
    ]
    rewards = [
        await publish_reward(
            title=f"R{cost}",
            description="",
            cost=cost,
            stock=None,
            valid_until=None,
            minimum_tier=None,
            coupon_valid_days=30,
        )
        for cost in REWARD_COSTS
    ]
    return World(members=members, cards=cards, owners=owners, rewards=rewards)


async def lot_snapshot() -> dict[int, tuple[int, int, datetime, datetime, int | None, int]]:
    rows = await PointsLot.all().values_list(
        "id", "remaining", "amount", "available_at", "expires_at", "member_id", "card_id"
    )
    return {row[0]: row[1:] for row in rows}


async def apply(operation: tuple, world: World, app_settings) -> None:
    kind = operation[0]
    if kind == "advance":
        world.now += timedelta(days=operation[1])
    elif kind == "buy":
        _, card_index, total, age, redeem = operation
        await buy_and_check_order(
            world, card_index, total=total, age=age, redeem=redeem, app_settings=app_settings
        )
    elif kind == "link":
        _, card_index, member_index = operation
        # Linked to someone else, over the limit or not enrolled: a refusal is fine.
        with contextlib.suppress(DomainError):
            await attach_card(
                member_id=world.members[member_index].id,
                card_id=world.cards[card_index].id,
                label=None,
                settings=app_settings,
                now=world.now,
            )
    elif kind == "unlink":
        card = await Card.get(id=world.cards[operation[1]].id)
        if card.member_id is not None:
            await unlink_card(member_id=card.member_id, card_id=card.id)
    elif kind == "opt_out":
        member = await Member.get(id=world.members[operation[1]].id)
        for card in await Card.filter(member_id=member.id):
            await unlink_card(member_id=member.id, card_id=card.id)
        await leave_program(member=member, now=world.now)
        assert sum(await entry_amounts(PointsOwner(member_id=member.id))) == 0
        await join_program(member=member, accept_rules=True, now=world.now)
    else:
        await apply_spending(operation, world, app_settings)


async def apply_spending(operation: tuple, world: World, app_settings) -> None:
    """Rewards bought and cancelled, and goods returned."""
    kind = operation[0]
    if kind == "reward":
        await buy_reward_and_check_order(
            world, operation[1], world.rewards[operation[2]], app_settings
        )
    elif kind == "cancel":
        await cancel_and_check_refund(world, operation[1], operation[2])
    elif kind == "return" and world.receipts:
        _, which, amount = operation
        receipt_id = world.receipts[which % len(world.receipts)]
        await return_and_check_order(world, receipt_id, Decimal(amount), app_settings)


async def buy_reward_and_check_order(
    world: World, member_index: int, reward: Reward, app_settings
) -> None:
    """Buy a reward with the member's points: soonest-expiring lots first, or refused whole."""
    owner = PointsOwner(member_id=world.members[member_index].id)
    before = await lot_snapshot()
    try:
        await redeem_reward(
            member_id=owner.member_id,  # type: ignore[arg-type]
            reward_id=reward.id,
            idempotency_key=f"K-{next(_receipts)}",
            settings=app_settings,
            now=world.now,
        )
    except DomainError as error:
        refusal = error.code
    else:
        refusal = None
    if refusal is not None:
        assert refusal == "INSUFFICIENT_POINTS"
        assert await lot_snapshot() == before
        return
    check_soonest_first(before, await lot_snapshot(), owner, world.now, reward.cost)


async def cancel_and_check_refund(world: World, member_index: int, newest: int) -> None:
    """Cancel one of the member's coupons: each lot it drew from gets its points back, and
    those past their expiry expire at once; a coupon no longer ACTIVE is refused whole."""
    member_id = world.members[member_index].id
    coupons = await Coupon.filter(member_id=member_id).order_by("-id")
    if not coupons:
        return
    coupon = coupons[newest % len(coupons)]
    before = await lot_snapshot()
    try:
        await cancel_coupon(member_id=member_id, coupon_id=coupon.id, now=world.now)
    except DomainError as error:
        refusal = error.code
    else:
        refusal = None
    if refusal is not None:
        assert refusal == "COUPON_NOT_ACTIVE"
        assert await lot_snapshot() == before
        return
    after = await lot_snapshot()
    for draw in await PointsDraw.filter(entry_id=coupon.redeem_entry_id):
        remaining, _, _, expires_at, _, _ = after[draw.lot_id]
        restored = before[draw.lot_id][0] + draw.points
        assert remaining == (restored if expires_at > world.now else 0)


async def buy_and_check_order(world, card_index, *, total, age, redeem, app_settings) -> None:
    """Record a purchase; when it redeems, the points came from the soonest-expiring lots."""
    card = await Card.get(id=world.cards[card_index].id)
    before = await lot_snapshot()
    receipt_id = f"P-{next(_receipts)}"
    try:
        await record_purchase(
            request=PurchaseRequest(
                receipt_id=receipt_id,
                card_number=card.number,
                store_id="s",
                total=Decimal(total) + Decimal("0.99"),
                occurred_at=world.now - timedelta(days=age),
                points_to_redeem=redeem,
            ),
            settings=app_settings,
            now=world.now,
        )
    except DomainError as error:
        refusal = error.code
    else:
        refusal = None
    if refusal is not None:
        assert refusal == "INSUFFICIENT_POINTS"
        assert redeem > 0
        assert await lot_snapshot() == before  # rolled back whole, expiries included
        return
    world.receipts.append(receipt_id)
    check_soonest_first(before, await lot_snapshot(), PointsOwner.of_card(card), world.now, redeem)


def check_soonest_first(before, after, owner: PointsOwner, now: datetime, points: int) -> None:
    """`points` were taken, and no lot the owner could have spent expires before a used one."""
    taken = [lot for lot in before if after[lot][0] < before[lot][0]]
    assert sum(before[lot][0] - after[lot][0] for lot in taken) == points
    eligible_left = [
        lot
        for lot, (remaining, _, available_at, expires_at, member_id, card_id) in after.items()
        if lot in before
        and remaining > 0
        and available_at <= now < expires_at
        and (member_id, None if member_id else card_id) == (owner.member_id, owner.card_id)
    ]
    for used in taken:
        for left in eligible_left:
            if left != used:
                assert (before[used][3], used) < (after[left][3], left)


async def return_and_check_order(world, receipt_id, amount, app_settings) -> None:
    """Return part of a purchase: at most what is left of it, and never more points than it
    earned; see `check_return_order` for where the points come from."""
    purchase = await Purchase.get(receipt_id=receipt_id)
    before = await lot_snapshot()
    try:
        result = await record_return(
            request=ReturnRequest(
                return_id=f"X-{next(_receipts)}", receipt_id=receipt_id, amount=amount
            ),
            settings=app_settings,
            now=world.now,
        )
    except DomainError as error:
        refusal = error.code
    else:
        refusal = None
    if refusal is not None:
        assert refusal == "RETURN_EXCEEDS_PURCHASE"
        assert amount > purchase.total - purchase.returned_total
        assert await lot_snapshot() == before
        return
    after = await Purchase.get(id=purchase.id)
    claims = await PurchaseReturn.filter(purchase_id=purchase.id).values_list(
        "points_returned", "points_shortfall"
    )
    assert after.returned_total == purchase.returned_total + amount <= purchase.total
    assert after.points_returned == sum(taken for taken, _ in claims)
    claimed = sum(taken + shortfall for taken, shortfall in claims)
    assert claimed <= purchase.points_earned
    if after.returned_total == purchase.total:
        assert claimed == purchase.points_earned
    await check_return_order(world, purchase, before, result)


async def check_return_order(world, purchase, before, result) -> None:
    """The points came from the owner's pending lots first, then the available ones; in each,
    the purchase's own lot first, then the soonest-expiring. A shortfall only when nothing was
    left to take."""
    after = await lot_snapshot()
    taken = [lot for lot in before if after[lot][0] < before[lot][0]]
    assert sum(before[lot][0] - after[lot][0] for lot in taken) == result.points_returned
    owner = (
        PointsOwner(member_id=purchase.member_id)
        if purchase.member_id
        else PointsOwner(card_id=purchase.card_id)
    )
    own = await PointsLot.filter(earn_entry__purchase_id=purchase.id).values_list("id", flat=True)
    bucket = {}
    for lot, (remaining, _, available_at, expires_at, member_id, card_id) in before.items():
        owned = (member_id, None if member_id else card_id) == (owner.member_id, owner.card_id)
        if owned and remaining > 0 and world.now < expires_at:
            bucket[lot] = "pending" if available_at > world.now else "available"
    left = [lot for lot in bucket if after[lot][0] > 0]
    if result.points_shortfall:
        assert left == []
    if any(bucket[lot] == "available" for lot in taken):
        assert all(bucket[lot] == "available" for lot in left)
    for used in taken:
        for other in (lot for lot in left if lot != used and bucket[lot] == bucket[used]):
            assert other not in own
            if used not in own:
                assert (before[used][3], used) < (before[other][3], other)


async def entry_amounts(owner: PointsOwner) -> list[int]:
    return await PointsEntry.filter(owner.rows().q()).values_list("amount", flat=True)  # type: ignore[return-value]


def balance_total(balance: Balance) -> int:
    """What the entries add up to: every point not yet spent, expired or forfeited."""
    return balance.available + balance.pending


async def check_invariants(world: World, app_settings) -> None:
    for owner in world.owners:
        balance = await read_balance(
            owner=owner, now=world.now, expiring_soon=app_settings.points_expiring_soon
        )
        amounts = await entry_amounts(owner)
        lots = await owner.lots()
        assert balance_total(balance) == sum(amounts)
        assert balance.available >= 0
        assert balance.pending >= 0
        assert all(0 <= lot.remaining <= lot.amount for lot in lots)
        flows = (
            balance.lifetime_earned
            - balance.spent
            - balance.expired
            - balance.forfeited
            - balance.returned
        )
        assert flows + balance.adjusted == balance_total(balance)
        # The buckets as the clock says they are, from the lots alone.
        assert all(lot.remaining == 0 for lot in lots if lot.expires_at <= world.now)
        assert balance.pending == sum(lot.remaining for lot in lots if lot.available_at > world.now)
        assert balance.available == sum(
            lot.remaining for lot in lots if lot.available_at <= world.now < lot.expires_at
        )
        expired = await PointsEntry.filter(owner.rows().q()).filter(kind=EntryKind.EXPIRE)
        assert balance.expired == -sum(entry.amount for entry in expired)
    lot_total = sum(lot.remaining for lot in await PointsLot.all())
    entry_total = sum(await PointsEntry.all().values_list("amount", flat=True))  # type: ignore[arg-type]
    assert lot_total == entry_total


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(operations, min_size=1, max_size=10))
async def test_the_ledger_stays_consistent_under_any_sequence_of_operations(app, settings, steps):
    """balance = sum of entries = sum of lots, nothing negative, soonest-expiring lots first
    (returns: pending before available, the purchase's own lot first), pending/available/expired
    as the clock says."""
    world = await make_world(settings)

    for step in [*opening, *steps]:
        await apply(step, world, settings)
        await check_invariants(world, settings)

    assert world.now >= START


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(spending, min_size=1, max_size=15))
async def test_rewards_bought_and_cancelled_keep_the_ledger_consistent(app, settings, steps):
    """The same invariants with members buying rewards (soonest-expiring lots first, refused
    whole) and cancelling coupons (each drawn point back to its lot, expired ones expiring)."""
    world = await make_world(settings)

    for step in [*opening, *linked, *steps]:
        await apply(step, world, settings)
        await check_invariants(world, settings)

    assert world.now >= START
