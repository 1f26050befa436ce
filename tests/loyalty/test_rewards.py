"""Rewards and coupons over GraphQL: the catalogue, buying, the wallet and cancelling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bff.identity.models import Member, ProgramStatus
from bff.ids import from_global_id
from bff.loyalty.ledger import PointsOwner, read_balance
from bff.loyalty.models import (
    Coupon,
    CouponStatus,
    EntryKind,
    PointsDraw,
    PointsEntry,
    PointsLot,
    Reward,
)
from bff.loyalty.rewards import CODE_ALPHABET, cancel_coupon
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.loyalty.rewards_helpers import (
    REDEEM,
    available_points,
    cancel,
    member_with_points,
    redeem,
)
from tests.loyalty.store import buy, publish_reward

CATALOGUE = """
query Rewards($first: Int, $after: String, $affordable: Boolean) {
  rewards(first: $first, after: $after, affordable: $affordable) {
    edges { cursor node { id title cost remaining minimumTier couponValidDays redeemable } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
WALLET = """
query W($status: CouponStatus) {
  me { coupons(first: 50, status: $status) { edges { node { code status reward { title } } } } }
}
"""
NODE = "query N($id: ID!) { node(id: $id) { id ... on Reward { title } ... on Coupon { code } } }"


def titles(connection):
    return [edge["node"]["title"] for edge in connection["edges"]]


def pk(global_id: str) -> int:
    decoded = from_global_id(global_id)
    assert decoded is not None
    return decoded[1]


async def test_the_catalogue_needs_no_session_and_lists_rewards_cheapest_first(client):
    """Query.rewards pages through rewards by cost; rewards past their validity are gone."""
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    await publish_reward(client, "Cinema", cost=500)
    await publish_reward(client, "Coffee", cost=100)
    await publish_reward(client, "Cake", cost=100)
    await publish_reward(client, "Old", cost=50, validUntil=past)

    first = await gql(client, CATALOGUE, {"first": 2})
    cursor = first["data"]["rewards"]["pageInfo"]["endCursor"]
    second = await gql(client, CATALOGUE, {"first": 2, "after": cursor})

    assert titles(first["data"]["rewards"]) == ["Coffee", "Cake"]
    assert first["data"]["rewards"]["pageInfo"]["hasNextPage"] is True
    assert titles(second["data"]["rewards"]) == ["Cinema"]
    assert {e["node"]["redeemable"] for e in first["data"]["rewards"]["edges"]} == {False}


async def test_affordable_rewards_are_those_the_member_can_buy_now(client):
    """affordable: true keeps rewards within the member's points, in stock and of their tier
    (a new member with little spend is BLUE)."""
    _, token, _ = await member_with_points(client, 150)
    await publish_reward(client, "Coffee", cost=100)
    await publish_reward(client, "Cinema", cost=500)
    await publish_reward(client, "Sold out", cost=10, stock=0)
    await publish_reward(client, "Gold lounge", cost=20, minimumTier="GOLD")

    everything = await gql(client, CATALOGUE, {"first": 10}, token=token)
    affordable = await gql(client, CATALOGUE, {"affordable": True}, token=token)

    assert titles(affordable["data"]["rewards"]) == ["Coffee"]
    redeemable = {
        e["node"]["title"]: e["node"]["redeemable"] for e in everything["data"]["rewards"]["edges"]
    }
    assert redeemable == {
        "Sold out": False,
        "Gold lounge": False,
        "Coffee": True,
        "Cinema": False,
    }


async def test_affordable_rewards_need_a_session(client):
    """Anonymous callers cannot ask what they can afford: UNAUTHENTICATED."""
    await publish_reward(client)

    body = await gql(client, CATALOGUE, {"affordable": True})

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_redeeming_spends_the_soonest_expiring_points_and_issues_a_coupon(client):
    """A REDEEM entry naming the reward takes from the oldest lot first; the coupon has an
    unguessable code, a barcode and a validity of couponValidDays; one item leaves the stock."""
    member, token, number = await member_with_points(client, 80, days_ago=200)
    await buy(
        client, number, "800.00", occurredAt=(datetime.now(UTC) - timedelta(days=20)).isoformat()
    )
    reward_id = await publish_reward(client, "Coffee", cost=100, stock=3, couponValidDays=10)

    result = await redeem(client, token, reward_id)

    coupon = result["coupon"]
    assert result["userErrors"] == []
    assert coupon["status"] == "ACTIVE"
    assert coupon["pointsSpent"] == 100
    assert coupon["reward"]["title"] == "Coffee"
    assert len(coupon["code"]) >= 10
    assert set(coupon["code"]) <= set(CODE_ALPHABET)
    assert coupon["barcode"] == coupon["code"]
    issued = datetime.fromisoformat(coupon["issuedAt"])
    assert datetime.fromisoformat(coupon["validUntil"]) == issued + timedelta(days=10)
    entry = await PointsEntry.get(kind=EntryKind.REDEEM)
    assert (entry.amount, entry.reward_id, entry.member_id) == (-100, pk(reward_id), member.id)
    lots = await PointsLot.filter(member_id=member.id).order_by("expires_at")
    assert [(lot.amount, lot.remaining) for lot in lots] == [(80, 0), (80, 60)]
    assert await available_points(client, token) == 60
    assert (await Reward.get(id=pk(reward_id))).stock == 2


async def test_the_same_idempotency_key_returns_the_same_coupon(client):
    """A retry with the key gets the first coupon; the points are spent once."""
    _, token, _ = await member_with_points(client, 300)
    reward_id = await publish_reward(client, cost=100)

    first = await redeem(client, token, reward_id, key="attempt-1")
    again = await redeem(client, token, reward_id, key="attempt-1")

    assert again["coupon"] == first["coupon"]
    assert await Coupon.all().count() == 1
    assert await available_points(client, token) == 200


async def test_the_same_key_for_another_reward_is_an_idempotency_conflict(client):
    """The key names one purchase attempt: another reward with it is refused, nothing spent."""
    _, token, _ = await member_with_points(client, 300)
    coffee = await publish_reward(client, "Coffee", cost=100)
    cake = await publish_reward(client, "Cake", cost=100)
    await redeem(client, token, coffee, key="attempt-1")

    result = await redeem(client, token, cake, key="attempt-1")

    assert result["coupon"] is None
    assert result["userErrors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    assert result["userErrors"][0]["field"] == ["input", "idempotencyKey"]
    assert await available_points(client, token) == 200


async def test_idempotency_keys_are_per_member(client):
    """Two members choosing the same key each get their own coupon."""
    _, token, _ = await member_with_points(client, 100)
    _, other, _ = await member_with_points(client, 100)
    reward_id = await publish_reward(client, cost=100)

    mine = await redeem(client, token, reward_id, key="same")
    theirs = await redeem(client, other, reward_id, key="same")

    assert mine["coupon"]["code"] != theirs["coupon"]["code"]


async def test_too_few_available_points_is_insufficient_points_and_nothing_changes(client):
    """Pending points do not count; the refusal spends nothing and takes no stock."""
    _, token, number = await member_with_points(client, 50)
    await buy(client, number, "1000.00")  # 100 pending points
    reward_id = await publish_reward(client, cost=100, stock=1)

    result = await redeem(client, token, reward_id)

    assert result["userErrors"][0]["code"] == "INSUFFICIENT_POINTS"
    assert await available_points(client, token) == 50
    assert (await Reward.get(id=pk(reward_id))).stock == 1
    assert await PointsEntry.filter(kind=EntryKind.REDEEM).count() == 0


async def test_a_sold_out_reward_is_out_of_stock(client):
    """The last item goes to the first buyer; the next one gets OUT_OF_STOCK."""
    _, token, _ = await member_with_points(client, 300)
    reward_id = await publish_reward(client, cost=100, stock=1)
    await redeem(client, token, reward_id, key="a")

    result = await redeem(client, token, reward_id, key="b")

    assert result["userErrors"][0]["code"] == "OUT_OF_STOCK"
    assert await available_points(client, token) == 200


async def test_rewards_out_of_their_window_or_above_the_tier_or_unknown_are_not_available(client):
    """Past validity, a tier above the member's (BLUE), an unknown or malformed id:
    REWARD_NOT_AVAILABLE."""
    _, token, _ = await member_with_points(client, 300)
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    old = await publish_reward(client, cost=10, validUntil=past)
    gold = await publish_reward(client, cost=10, minimumTier="GOLD")

    results = [
        await redeem(client, token, reward_id, key=str(index))
        for index, reward_id in enumerate([old, gold, "UmV3YXJkOjk5OTk5", "nonsense"])
    ]

    assert [r["userErrors"][0]["code"] for r in results] == ["REWARD_NOT_AVAILABLE"] * 4
    assert await available_points(client, token) == 300


async def test_a_member_outside_the_program_cannot_buy_rewards(client):
    """An OPTED_OUT member gets NOT_ENROLLED."""
    _, token = await signed_in_member(program_status=ProgramStatus.OPTED_OUT)
    reward_id = await publish_reward(client, cost=1)

    result = await redeem(client, token, reward_id)

    assert result["userErrors"][0]["code"] == "NOT_ENROLLED"


async def test_a_bad_idempotency_key_is_invalid_input(client):
    """An empty or overlong key is refused before anything is spent."""
    _, token, _ = await member_with_points(client, 300)
    reward_id = await publish_reward(client, cost=10)

    empty = await redeem(client, token, reward_id, key="")
    long = await redeem(client, token, reward_id, key="k" * 101)

    assert [empty["userErrors"][0]["code"], long["userErrors"][0]["code"]] == ["INVALID_INPUT"] * 2


async def test_redeeming_needs_a_session(client):
    """Anonymous redeemReward is UNAUTHENTICATED."""
    reward_id = await publish_reward(client)

    variables = {"input": {"rewardId": reward_id, "idempotencyKey": "k"}}
    body = await gql(client, REDEEM, variables)

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_wallet_lists_coupons_newest_first_by_status(client):
    """me.coupons shows every status, or one: ACTIVE, EXPIRED (past validity), CANCELLED."""
    _, token, _ = await member_with_points(client, 500)
    reward_id = await publish_reward(client, "Coffee", cost=10)
    codes = [(await redeem(client, token, reward_id, key=str(i)))["coupon"] for i in range(3)]
    await cancel(client, token, codes[0]["id"])
    await Coupon.filter(code=codes[1]["code"]).update(
        valid_until=datetime.now(UTC) - timedelta(seconds=1)
    )

    everything = await gql(client, WALLET, token=token)
    by_status = {
        status: await gql(client, WALLET, {"status": status}, token=token)
        for status in ["ACTIVE", "EXPIRED", "CANCELLED", "USED"]
    }

    def listed(body):
        return [
            (e["node"]["code"], e["node"]["status"]) for e in body["data"]["me"]["coupons"]["edges"]
        ]

    assert listed(everything) == [
        (codes[2]["code"], "ACTIVE"),
        (codes[1]["code"], "EXPIRED"),
        (codes[0]["code"], "CANCELLED"),
    ]
    assert listed(by_status["ACTIVE"]) == [(codes[2]["code"], "ACTIVE")]
    assert listed(by_status["EXPIRED"]) == [(codes[1]["code"], "EXPIRED")]
    assert listed(by_status["CANCELLED"]) == [(codes[0]["code"], "CANCELLED")]
    assert listed(by_status["USED"]) == []


async def test_cancelling_gives_the_points_back_to_their_lots_with_their_expiry(client):
    """A REFUND entry restores the points to the lots they came from (same expiry), the item
    returns to stock, and the coupon is CANCELLED."""
    member, token, _ = await member_with_points(client, 150)
    reward_id = await publish_reward(client, cost=100, stock=1)
    coupon = (await redeem(client, token, reward_id))["coupon"]
    lot_before = await PointsLot.get(member_id=member.id)

    result = await cancel(client, token, coupon["id"])

    assert result["coupon"]["status"] == "CANCELLED"
    assert result["coupon"]["cancelledAt"] is not None
    lot = await PointsLot.get(member_id=member.id)
    assert (lot.remaining, lot.expires_at) == (150, lot_before.expires_at)
    refund = await PointsEntry.get(kind=EntryKind.REFUND)
    assert (refund.amount, refund.reward_id) == (100, pk(reward_id))
    assert await available_points(client, token) == 150
    assert (await Reward.get(id=pk(reward_id))).stock == 1
    body = await gql(client, "query { me { points { spent } } }", token=token)
    assert body["data"]["me"]["points"]["spent"] == 0


async def test_points_given_back_after_their_expiry_expire_at_once(client, settings):
    """Cancelling after the spent lot's expiry: REFUND, then EXPIRE of the same points."""
    member, token, _ = await member_with_points(client, 100, days_ago=360)
    reward_id = await publish_reward(client, cost=100, couponValidDays=30)
    coupon = (await redeem(client, token, reward_id))["coupon"]
    later = datetime.now(UTC) + timedelta(days=10)  # the lot expired 5 days before

    await cancel_coupon(member_id=member.id, coupon_id=pk(coupon["id"]), now=later)

    balance = await read_balance(
        owner=PointsOwner(member_id=member.id), now=later, expiring_soon=timedelta(days=30)
    )
    assert (balance.available, balance.expired, balance.spent) == (0, 100, 0)
    kinds = (
        await PointsEntry.filter(member_id=member.id).order_by("id").values_list("kind", "amount")
    )
    assert kinds == [
        (EntryKind.EARN, 100),
        (EntryKind.REDEEM, -100),
        (EntryKind.REFUND, 100),
        (EntryKind.EXPIRE, -100),
    ]


async def test_only_an_active_coupon_of_ones_own_can_be_cancelled(client):
    """A cancelled coupon is COUPON_NOT_ACTIVE; another member's or a bogus id is NOT_FOUND."""
    _, token, _ = await member_with_points(client, 300)
    _, other, _ = await member_with_points(client, 0)
    reward_id = await publish_reward(client, cost=100)
    coupon = (await redeem(client, token, reward_id))["coupon"]
    await cancel(client, token, coupon["id"])

    twice = await cancel(client, token, coupon["id"])
    foreign = await cancel(client, other, coupon["id"])
    bogus = await cancel(client, token, "bogus")

    assert twice["userErrors"][0]["code"] == "COUPON_NOT_ACTIVE"
    assert foreign["userErrors"][0]["code"] == "NOT_FOUND"
    assert bogus["userErrors"][0]["code"] == "NOT_FOUND"
    assert await available_points(client, token) == 300
    assert await PointsEntry.filter(kind=EntryKind.REFUND).count() == 1


async def test_rewards_are_nodes_for_anyone_and_coupons_only_for_their_member(client):
    """node(id) finds a reward without a session; a coupon only for the member who bought it."""
    _, token, _ = await member_with_points(client, 100)
    _, other = await signed_in_member()
    reward_id = await publish_reward(client, "Coffee", cost=100)
    coupon = (await redeem(client, token, reward_id))["coupon"]

    reward = await gql(client, NODE, {"id": reward_id})
    mine = await gql(client, NODE, {"id": coupon["id"]}, token=token)
    theirs = await gql(client, NODE, {"id": coupon["id"]}, token=other)

    assert reward["data"]["node"] == {"id": reward_id, "title": "Coffee"}
    assert mine["data"]["node"] == {"id": coupon["id"], "code": coupon["code"]}
    assert theirs["data"]["node"] is None


async def test_a_redemption_records_what_it_took_from_each_lot(client):
    """The draws of a REDEEM entry add up to its amount (what cancelling puts back)."""
    _, token, number = await member_with_points(client, 30, days_ago=100)
    await buy(
        client, number, "300.00", occurredAt=(datetime.now(UTC) - timedelta(days=50)).isoformat()
    )
    reward_id = await publish_reward(client, cost=45)

    await redeem(client, token, reward_id)

    entry = await PointsEntry.get(kind=EntryKind.REDEEM)
    draws = (
        await PointsDraw.filter(entry_id=entry.id).order_by("id").values_list("points", flat=True)
    )
    assert draws == [30, 15]


async def test_a_member_outside_the_program_cannot_cancel_a_coupon(client):
    """After opting out there is no balance to give back to: NOT_ENROLLED, nothing changes."""
    member, token, _ = await member_with_points(client, 100)
    reward_id = await publish_reward(client, cost=100)
    coupon = (await redeem(client, token, reward_id))["coupon"]
    await Member.filter(id=member.id).update(program_status=ProgramStatus.OPTED_OUT)

    result = await cancel(client, token, coupon["id"])

    assert result["userErrors"][0]["code"] == "NOT_ENROLLED"
    assert (await Coupon.get(code=coupon["code"])).status is CouponStatus.ACTIVE


async def test_the_data_export_lists_the_members_coupons(client):
    """me.dataExport carries each coupon with its reward, status and times."""
    _, token, _ = await member_with_points(client, 100)
    reward_id = await publish_reward(client, "Coffee", cost=100)
    coupon = (await redeem(client, token, reward_id))["coupon"]

    body = await gql(client, "query { me { dataExport } }", token=token)

    assert body["data"]["me"]["dataExport"]["coupons"] == [
        {
            "code": coupon["code"],
            "reward": "Coffee",
            "pointsSpent": 100,
            "status": "ACTIVE",
            "issuedAt": coupon["issuedAt"],
            "validUntil": coupon["validUntil"],
            "usedAt": None,
            "cancelledAt": None,
        }
    ]


async def test_a_reward_for_a_higher_tier_is_bought_once_the_member_reaches_it(client):
    """minimumTier GOLD: a SILVER member gets REWARD_NOT_AVAILABLE, a GOLD one the coupon; the
    tier is the member's current one (bff.loyalty.tiers)."""
    _, silver, _ = await member_with_points(client, 20_000)  # 200,000.00 of spend
    _, gold, _ = await member_with_points(client, 50_000)  # 500,000.00 of spend
    reward_id = await publish_reward(client, "Lounge", cost=100, minimumTier="GOLD")

    refused = await redeem(client, silver, reward_id)
    bought = await redeem(client, gold, reward_id)
    listed = await gql(client, CATALOGUE, {"affordable": True}, token=gold)

    assert refused["userErrors"][0]["code"] == "REWARD_NOT_AVAILABLE"
    assert bought["coupon"]["reward"]["title"] == "Lounge"
    assert titles(listed["data"]["rewards"]) == ["Lounge"]
