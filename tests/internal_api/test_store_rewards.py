"""The store side of rewards: publishing them, coupons at the till, a card's benefits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bff.loyalty.models import Coupon, CouponStatus, Purchase, Reward
from bff.loyalty.numbers import generate_number
from tests.graphql_client import gql
from tests.loyalty.rewards_helpers import cancel, member_with_points, redeem
from tests.loyalty.store import STORE_HEADERS, issue_card, publish_reward, receipt, store_post
from tests.offers.test_offers import ACTIVATE, create_offer

WALLET = "query { me { coupons { edges { node { code status usedAt } } } } }"


async def bought_coupon(client, points=300, cost=100, **reward):
    """A member with a coupon: (token, card number, coupon)."""
    _, token, number = await member_with_points(client, points)
    reward_id = await publish_reward(client, "Coffee", cost=cost, **reward)
    coupon = (await redeem(client, token, reward_id))["coupon"]
    return token, number, coupon


async def test_a_store_publishes_a_reward(client):
    """POST /rewards: 201 with the reward's global id; it shows in the catalogue."""
    until = (datetime.now(UTC) + timedelta(days=90)).isoformat()
    body = {
        "title": "Cinema",
        "description": "Two tickets",
        "cost": 1000,
        "stock": 20,
        "validUntil": until,
        "minimumTier": "SILVER",
        "couponValidDays": 14,
    }

    response = await store_post(client, "rewards", body)

    assert response.status_code == 201
    reward = await Reward.get()
    assert (reward.title, reward.cost, reward.stock, reward.coupon_valid_days) == (
        "Cinema",
        1000,
        20,
        14,
    )
    assert reward.minimum_tier == "SILVER"
    listed = await gql(client, "query { rewards { edges { node { id minimumTier } } } }")
    assert listed["data"]["rewards"]["edges"][0]["node"] == {
        "id": response.json()["id"],
        "minimumTier": "SILVER",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"cost": 0},
        {"cost": 10.5},
        {"cost": "10"},
        {"stock": -1},
        {"minimumTier": "PLATINUM"},
        {"couponValidDays": 0},
        {"validUntil": "2030-01-01T00:00:00"},
        {"title": ""},
        {"surprise": True},
    ],
)
async def test_a_malformed_reward_is_422(client, change):
    """Bad costs, stocks, tiers, naive times, unknown fields: 422 INVALID_INPUT, nothing stored."""
    body = {"title": "Coffee", "description": "", "cost": 100, **change}

    response = await store_post(client, "rewards", body)

    assert response.status_code == 422
    assert response.json()["error"] == "INVALID_INPUT"
    assert await Reward.all().count() == 0


async def test_publishing_a_reward_needs_the_api_key(client):
    """Without X-Api-Key: 401."""
    response = await client.post("/internal/v1/rewards", json={"title": "x"})

    assert response.status_code == 401


async def test_a_coupon_presented_at_the_till_is_used_and_named_in_the_answer(client):
    """couponCodes burns the coupon: USED with usedAt, and the answer says what was applied."""
    token, number, coupon = await bought_coupon(client)

    response = await store_post(
        client, "purchases", receipt(number, "50.00", couponCodes=[coupon["code"].lower()])
    )

    assert response.status_code == 201
    used = response.json()["couponsUsed"]
    assert [(u["code"], u["title"]) for u in used] == [(coupon["code"], "Coffee")]
    wallet = await gql(client, WALLET, token=token)
    node = wallet["data"]["me"]["coupons"]["edges"][0]["node"]
    assert node["status"] == "USED"
    assert node["usedAt"] is not None


async def test_a_coupon_is_used_once_and_the_same_receipt_replayed_gets_the_same_answer(client):
    """A second receipt with the coupon: 409 COUPON_NOT_ACTIVE, nothing recorded; the first
    receipt sent again: 200 and its first answer."""
    _, number, coupon = await bought_coupon(client)
    first_body = receipt(number, "50.00", couponCodes=[coupon["code"]])
    first = await store_post(client, "purchases", first_body)

    second = await store_post(
        client, "purchases", receipt(number, "70.00", couponCodes=[coupon["code"]])
    )
    replay = await store_post(client, "purchases", first_body)

    assert second.status_code == 409
    assert second.json()["error"] == "COUPON_NOT_ACTIVE"
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert await Purchase.all().count() == 2  # the earning purchase and the first receipt


async def test_a_receipt_with_a_coupon_it_cannot_use_is_refused_whole(client):
    """A bad coupon refuses the receipt: no purchase, no points, the good coupon stays ACTIVE."""
    _, number, coupon = await bought_coupon(client)
    purchases = await Purchase.all().count()

    response = await store_post(
        client, "purchases", receipt(number, "500.00", couponCodes=[coupon["code"], "ZZZZZZZZZZZZ"])
    )

    assert response.status_code == 404
    assert response.json()["error"] == "COUPON_NOT_FOUND"
    assert await Purchase.all().count() == purchases
    assert (await Coupon.get(code=coupon["code"])).status is CouponStatus.ACTIVE


async def test_cancelled_expired_and_foreign_coupons_are_not_active_at_the_till(client):
    """Cancelled, past validity, another member's, or on an unlinked card: 409 COUPON_NOT_ACTIVE."""
    token, number, cancelled = await bought_coupon(client, points=500)
    await cancel(client, token, cancelled["id"])
    reward_id = await publish_reward(client, "Cake", cost=10)
    expired = (await redeem(client, token, reward_id, key="e"))["coupon"]
    await Coupon.filter(code=expired["code"]).update(
        valid_until=datetime.now(UTC) - timedelta(minutes=1)
    )
    _, _, theirs = await bought_coupon(client)
    unlinked, _ = await issue_card(client)
    own = (await redeem(client, token, reward_id, key="o"))["coupon"]

    answers = [
        await store_post(client, "purchases", receipt(card, "10.00", couponCodes=[code]))
        for card, code in [
            (number, cancelled["code"]),
            (number, expired["code"]),
            (number, theirs["code"]),
            (unlinked, own["code"]),
        ]
    ]

    assert [(a.status_code, a.json()["error"]) for a in answers] == [(409, "COUPON_NOT_ACTIVE")] * 4


@pytest.mark.parametrize("codes", [["bad-code"], [""], ["A" * 33], "ABC", [1], ["X"] * 21])
async def test_malformed_coupon_codes_are_422(client, codes):
    """Codes are 1-32 letters and digits, at most 20 a receipt: anything else is 422."""
    number, _ = await issue_card(client)

    response = await store_post(client, "purchases", receipt(number, "10.00", couponCodes=codes))

    assert response.status_code == 422
    assert response.json()["error"] == "INVALID_INPUT"


async def test_a_cards_benefits_are_its_members_active_coupons_and_activated_offers(client):
    """GET /cards/{number}/benefits: usable coupons (not used or cancelled) and activated offers
    in their window."""
    token, number, coupon = await bought_coupon(client, points=500)
    reward_id = await publish_reward(client, "Cake", cost=10)
    cancelled = (await redeem(client, token, reward_id, key="c"))["coupon"]
    await cancel(client, token, cancelled["id"])
    used = (await redeem(client, token, reward_id, key="u"))["coupon"]
    await store_post(client, "purchases", receipt(number, "10.00", couponCodes=[used["code"]]))
    activated = await create_offer(client, "Ten off")
    await create_offer(client, "Not activated")
    await gql(client, ACTIVATE, {"input": {"offerId": activated}}, token=token)

    response = await client.get(f"/internal/v1/cards/{number}/benefits", headers=STORE_HEADERS)

    assert response.status_code == 200
    assert response.json() == {
        "coupons": [
            {"code": coupon["code"], "title": "Coffee", "validUntil": coupon["validUntil"]}
        ],
        "offers": [{"id": activated, "title": "Ten off", "discountPercent": 10}],
    }


async def test_an_unlinked_cards_benefits_are_empty_and_an_unknown_card_is_404(client):
    """No member, nothing to use; an unknown number: 404 CARD_NOT_FOUND; a bad one: 422."""
    number, _ = await issue_card(client)

    unlinked = await client.get(f"/internal/v1/cards/{number}/benefits", headers=STORE_HEADERS)
    never_issued = generate_number()
    unknown = await client.get(f"/internal/v1/cards/{never_issued}/benefits", headers=STORE_HEADERS)
    bad = await client.get("/internal/v1/cards/123/benefits", headers=STORE_HEADERS)

    assert (unlinked.status_code, unlinked.json()) == (200, {"coupons": [], "offers": []})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "CARD_NOT_FOUND")
    assert bad.status_code == 422


async def test_benefits_are_read_with_get_and_the_api_key(client):
    """POST is 405; no key is 401."""
    number, _ = await issue_card(client)

    post = await client.post(f"/internal/v1/cards/{number}/benefits", headers=STORE_HEADERS)
    anonymous = await client.get(f"/internal/v1/cards/{number}/benefits")

    assert post.status_code == 405
    assert anonymous.status_code == 401
