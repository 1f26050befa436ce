"""Tills at the same moment: no balance goes negative, no receipt is credited twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bff.loyalty.models import (
    Coupon,
    CouponStatus,
    EntryKind,
    PointsEntry,
    PointsLot,
    Purchase,
    Reward,
)
from tests.factories import signed_in_member
from tests.loyalty.rewards_helpers import member_with_points, redeem
from tests.loyalty.store import buy, issue_card, publish_reward, receipt, store_post
from tests.loyalty.test_linking import link

TILLS = 20


@pytest.mark.postgres_only
async def test_twenty_tills_redeeming_from_one_member_at_once_never_overdraw(client):
    """100 available points, 20 parallel redemptions of 10 on the member's two cards: exactly
    10 succeed, the rest are INSUFFICIENT_POINTS, and the ledger ends at zero."""
    member, token = await signed_in_member()
    numbers = []
    for _ in range(2):
        number, code = await issue_card(client)
        await link(client, token, number, code)
        numbers.append(number)
    month_ago = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    await buy(client, numbers[0], "600.00", occurredAt=month_ago)
    await buy(client, numbers[1], "400.00", occurredAt=month_ago)

    responses = await asyncio.gather(
        *(
            store_post(client, "purchases", receipt(numbers[till % 2], "5.00", pointsToRedeem=10))
            for till in range(TILLS)
        )
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 10 + [409] * 10
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {"INSUFFICIENT_POINTS"}
    entries = await PointsEntry.filter(member_id=member.id).values_list("amount", flat=True)
    assert sum(entries) == 0
    assert await PointsLot.filter(remaining__lt=0).count() == 0
    assert await PointsEntry.filter(kind=EntryKind.REDEEM).count() == 10


async def test_parallel_duplicate_receipts_are_credited_once(client):
    """The same receipt sent by 20 retries at once: one 201, the rest 200 with the same answer."""
    number, _ = await issue_card(client)
    body = receipt(number, "990.00")

    responses = await asyncio.gather(*(store_post(client, "purchases", body) for _ in range(TILLS)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (TILLS - 1) + [201]
    first = {"receiptId": body["receiptId"], "pointsEarned": 99, "pointsRedeemed": 0}
    assert all(r.json() == {**first, "couponsUsed": [], "offersApplied": []} for r in responses)
    assert await Purchase.all().count() == 1
    assert await PointsEntry.all().count() == 1


async def test_parallel_conflicting_bodies_for_one_receipt_record_one_of_them(client):
    """Same receipt id with different totals at once: one is recorded, the others conflict."""
    number, _ = await issue_card(client)
    body = receipt(number, "100.00")

    responses = await asyncio.gather(
        *(
            store_post(client, "purchases", {**body, "total": f"{100 + till}.00"})
            for till in range(TILLS)
        )
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (TILLS - 1)
    assert await Purchase.all().count() == 1


@pytest.mark.postgres_only
async def test_fifty_members_racing_for_the_last_five_items_get_five_coupons(client):
    """50 members buy a reward with 5 left at once: 5 coupons, 45 OUT_OF_STOCK, and the losers
    keep every point."""
    reward_id = await publish_reward(client, "Last ones", cost=100, stock=5)
    buyers = [await member_with_points(client, 100) for _ in range(50)]

    results = await asyncio.gather(*(redeem(client, token, reward_id) for _, token, _ in buyers))

    winners = [r for r in results if r["coupon"] is not None]
    losers = [r for r in results if r["coupon"] is None]
    assert len(winners) == 5
    assert len({r["coupon"]["code"] for r in winners}) == 5
    assert {r["userErrors"][0]["code"] for r in losers} == {"OUT_OF_STOCK"}
    assert len(losers) == 45
    assert (await Reward.get()).stock == 0
    assert await Coupon.all().count() == 5
    for member, _, _ in buyers:
        left = sum(await PointsEntry.filter(member_id=member.id).values_list("amount", flat=True))
        lots = sum(await PointsLot.filter(member_id=member.id).values_list("remaining", flat=True))
        spent = await Coupon.filter(member_id=member.id).count() * 100
        assert left == lots == 100 - spent


@pytest.mark.postgres_only
async def test_one_coupon_presented_at_ten_tills_at_once_is_used_once(client):
    """Ten receipts carrying the same coupon at once, on the member's two cards: one is
    recorded, nine are COUPON_NOT_ACTIVE and record nothing."""
    member, token, number = await member_with_points(client, 300)
    second, code = await issue_card(client)
    await link(client, token, second, code)
    reward_id = await publish_reward(client, "Coffee", cost=100)
    coupon = (await redeem(client, token, reward_id))["coupon"]
    purchases = await Purchase.all().count()
    cards = [number, second]

    responses = await asyncio.gather(
        *(
            store_post(
                client, "purchases", receipt(cards[till % 2], "20.00", couponCodes=[coupon["code"]])
            )
            for till in range(10)
        )
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 9
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {"COUPON_NOT_ACTIVE"}
    assert await Purchase.all().count() == purchases + 1
    used = await Coupon.get(code=coupon["code"])
    assert used.status is CouponStatus.USED
    assert used.used_purchase_id is not None
    assert member.id == used.member_id
