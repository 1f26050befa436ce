"""Property tests of tiers: under any sequence of purchases and reads over months, the tier equals
the one recomputed from the purchases in the window, and each purchase earned with the
multiplier of the tier held when it occurred."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bff.loyalty.models import Card, EntryKind, PointsEntry, Purchase, TierChange, TierCode
from bff.loyalty.numbers import check_digit
from bff.loyalty.purchases import PurchaseRequest, record_purchase
from bff.loyalty.tiers import month_start, program_tiers, read_tiers, tier_for_spend
from tests.conftest import empty_tables
from tests.factories import create_member, signed_in_member
from tests.loyalty.store import buy, issue_card
from tests.loyalty.test_linking import link

START = datetime(2026, 1, 1, 9, tzinfo=UTC)
_numbers = itertools.count(10**9)

steps_strategy = st.lists(
    st.tuples(
        st.sampled_from(["buy", "buy", "read"]),
        st.integers(min_value=0, max_value=45),  # days since the previous step
        st.sampled_from([0, 1, 20_000, 75_000, 150_000, 350_000, 500_000]),  # total
    ),
    min_size=1,
    max_size=12,
)


def window_start(now: datetime, full_months: int) -> datetime:
    month = month_start(now)
    index = month.year * 12 + month.month - 1 - full_months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def spend_before(purchases: list[tuple[datetime, Decimal]], now: datetime, full_months: int):
    """The oracle: purchase totals from the window's start up to `now`, from the rows."""
    start = window_start(now, full_months)
    return sum((total for when, total in purchases if start <= when <= now), Decimal(0))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps_strategy)
async def test_the_tier_is_always_the_one_the_window_supports_and_multipliers_match_it(
    app, settings, steps
):
    """Without returns the grace rule means: the tier of the window's spend as of now."""
    tiers = program_tiers(settings)
    months = settings.tier_window_full_months
    member = await create_member()
    body = f"29{next(_numbers)}"
    card = await Card.create(
        number=body + str(check_digit(body)), code_hash="x", member_id=member.id, linked_at=START
    )
    now = START
    try:
        for n, (action, gap, total) in enumerate(steps):
            now += timedelta(days=gap, minutes=1)
            if action == "read":
                status = (await read_tiers(member_ids=[member.id], now=now, settings=settings))[
                    member.id
                ]
            else:
                rows = await Purchase.filter(member_id=member.id).values_list(
                    "occurred_at", "total"
                )
                held = tier_for_spend(spend_before(rows, now, months), tiers)
                await record_purchase(
                    request=PurchaseRequest(
                        receipt_id=f"P{member.id}-{n}",
                        card_number=card.number,
                        store_id="s",
                        total=Decimal(total),
                        occurred_at=now,
                    ),
                    settings=settings,
                    now=now,
                )
                entry = (
                    await PointsEntry.filter(member_id=member.id, kind=EntryKind.EARN)
                    .order_by("-id")
                    .first()
                )
                if total >= settings.currency_units_per_point:
                    assert entry is not None
                    assert entry.multiplier == held.multiplier
                    assert entry.amount == int(Decimal(total) * held.multiplier // 10)
                status = (await read_tiers(member_ids=[member.id], now=now, settings=settings))[
                    member.id
                ]
            rows = await Purchase.filter(member_id=member.id).values_list("occurred_at", "total")
            expected = tier_for_spend(spend_before(rows, now, months), tiers)
            assert status.tier.code is expected.code
            assert status.window_spend == spend_before(rows, now, months)
    finally:
        await empty_tables()


@pytest.mark.postgres_only
async def test_twenty_tills_buying_for_one_member_at_once_never_lose_a_tier_evaluation(
    client, settings
):
    """20 parallel receipts of 25,000 (500,000 together) on two cards: the member ends Gold,
    with exactly one change to Silver and one to Gold recorded, in that order, and each receipt
    earned at the tier its turn found (6 at Blue, 14 at Silver)."""
    member, token = await signed_in_member()
    numbers = []
    for _ in range(2):
        number, code = await issue_card(client)
        await link(client, token, number, code)
        numbers.append(number)

    answers = await asyncio.gather(
        *(buy(client, numbers[till % 2], "25000.00") for till in range(20))
    )

    changes = await TierChange.filter(member_id=member.id).order_by("id")
    assert [(c.from_tier, c.to_tier) for c in changes] == [
        (TierCode.BLUE, TierCode.SILVER),
        (TierCode.SILVER, TierCode.GOLD),
    ]
    status = (await read_tiers(member_ids=[member.id], now=datetime.now(UTC), settings=settings))[
        member.id
    ]
    assert status.tier.code is TierCode.GOLD
    assert status.window_spend == Decimal("500000.00")
    assert sorted(answer["pointsEarned"] for answer in answers) == [2500] * 6 + [3125] * 14
