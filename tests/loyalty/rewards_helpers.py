"""A member with points to spend, and the GraphQL documents of rewards and coupons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bff.identity.models import Member
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.loyalty.store import buy, issue_card
from tests.loyalty.test_linking import link

COUPON_FIELDS = "id code barcode status pointsSpent issuedAt validUntil usedAt cancelledAt"
REDEEM = f"""
mutation R($input: RedeemRewardInput!) {{
  redeemReward(input: $input) {{
    coupon {{ {COUPON_FIELDS} reward {{ id title }} }}
    userErrors {{ field code message }}
  }}
}}
"""
CANCEL = f"""
mutation C($input: CouponIdInput!) {{
  cancelCoupon(input: $input) {{ coupon {{ {COUPON_FIELDS} }} userErrors {{ field code }} }}
}}
"""
MY_POINTS = "query { me { points { available pending spent expired } } }"


async def member_with_points(
    client: httpx.AsyncClient, points: int, *, days_ago: int = 30
) -> tuple[Member, str, str]:
    """A signed-in member whose linked card earned `points`, available now: (member, token,
    card number)."""
    member, token = await signed_in_member()
    number, code = await issue_card(client)
    await link(client, token, number, code)
    if points:
        when = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
        await buy(client, number, f"{points * 10}.00", occurredAt=when)
    return member, token, number


async def redeem(
    client: httpx.AsyncClient, token: str, reward_id: str, key: str = "k1"
) -> dict[str, Any]:
    variables = {"input": {"rewardId": reward_id, "idempotencyKey": key}}
    body = await gql(client, REDEEM, variables, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["redeemReward"]
    return result


async def cancel(client: httpx.AsyncClient, token: str, coupon_id: str) -> dict[str, Any]:
    body = await gql(client, CANCEL, {"input": {"couponId": coupon_id}}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["cancelCoupon"]
    return result


async def available_points(client: httpx.AsyncClient, token: str) -> int:
    body = await gql(client, MY_POINTS, token=token)
    points: int = body["data"]["me"]["points"]["available"]
    return points
