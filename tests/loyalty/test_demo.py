"""`bff seed-demo`: a demo member whose points show every bucket, cards, offers, a card to link."""

from __future__ import annotations

from bff.demo import DEMO_EMAIL, UNLINKED_CARD_CODE, UNLINKED_CARD_NUMBER, load_demo
from bff.identity.models import Member
from bff.loyalty.models import PointsEntry
from tests.factories import create_session, signed_in_member
from tests.graphql_client import gql
from tests.loyalty.test_linking import link

DEMO = """
query {
  me {
    cards { number status }
    points { available pending expiringSoon nextExpiryAt lifetimeEarned spent expired }
    transactions(first: 100) { edges { node { id } } pageInfo { hasNextPage } }
    offers(first: 100) { edges { node { exclusive } } }
  }
  offers(first: 100) { edges { node { id } } }
}
"""
REWARDS_AND_WALLET = """
query {
  rewards { edges { node { title redeemable } } }
  me { coupons { edges { node { status reward { title } } } } }
}
"""
RETURNS = """
query {
  me {
    transactions(first: 100) { edges { node { total returnedTotal pointsReturned } } }
    pointsHistory(first: 100) { edges { node { kind } } }
  }
}
"""
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { member { email } userErrors { code } }
}
"""


async def test_the_demo_member_shows_pending_available_expiring_and_expired_points(
    app, client, settings
):
    """Three cards, about 200 purchases, and every bucket of the balance non-empty."""
    summary = await load_demo(settings, only_if_empty=True)
    member = await Member.get(email=DEMO_EMAIL)
    token = await create_session(member)

    body = await gql(client, DEMO, token=token)

    me = body["data"]["me"]
    assert len(me["cards"]) == 3
    points = me["points"]
    assert all(points[bucket] > 0 for bucket in ("available", "pending", "expiringSoon", "expired"))
    assert points["spent"] > 0
    total = sum(await PointsEntry.filter(member_id=member.id).values_list("amount", flat=True))
    assert total == points["available"] + points["pending"]
    assert me["transactions"]["pageInfo"]["hasNextPage"] is True
    assert {offer["node"]["exclusive"] for offer in me["offers"]["edges"]} == {True, False}
    assert len(body["data"]["offers"]["edges"]) >= 20
    assert UNLINKED_CARD_NUMBER in summary


async def test_the_printed_password_signs_the_demo_member_in(app, client, settings):
    """The command prints a password that passes the policy and works."""
    summary = await load_demo(settings, only_if_empty=False)
    password = summary.split(f"{DEMO_EMAIL} / ")[1].split()[0]

    body = await gql(client, LOGIN, {"input": {"email": DEMO_EMAIL, "password": password}})

    assert len(password) >= 15
    assert body["data"]["login"]["member"]["email"] == DEMO_EMAIL


async def test_the_printed_unlinked_card_can_be_linked(app, client, settings):
    """A newcomer links the README's card with the README's code."""
    await load_demo(settings, only_if_empty=False)
    _, token = await signed_in_member()

    result = await link(client, token, UNLINKED_CARD_NUMBER, UNLINKED_CARD_CODE)

    assert result["userErrors"] == []


async def test_if_empty_loads_nothing_into_a_database_with_members(app, settings):
    """`make run` calls it every time: the second run leaves the data alone."""
    await signed_in_member()

    summary = await load_demo(settings, only_if_empty=True)

    assert "nothing loaded" in summary
    assert not await Member.exists(email=DEMO_EMAIL)


async def test_the_demo_members_preferences_are_the_defaults_of_a_new_member(app, client, settings):
    """Like a member who registered and never changed a switch: the defaults, dated when the
    account was created."""
    await load_demo(settings, only_if_empty=True)
    member = await Member.get(email=DEMO_EMAIL)
    token = await create_session(member)

    body = await gql(
        client,
        "query { me { preferences { notifyByEmail marketingByEmail updatedAt } } }",
        token=token,
    )

    assert body["data"]["me"]["preferences"] == {
        "notifyByEmail": True,
        "marketingByEmail": False,
        "updatedAt": member.created_at.isoformat(),
    }


async def test_the_demo_member_has_a_tier_with_visible_progress(app, client, settings):
    """A tier, spend in the window and the spend still needed for the next tier."""
    await load_demo(settings, only_if_empty=True)
    token = await create_session(await Member.get(email=DEMO_EMAIL))

    body = await gql(
        client,
        "query { me { tier { tier { code } windowSpend nextTier { code } spendToNextTier } } }",
        token=token,
    )

    tier = body["data"]["me"]["tier"]
    assert tier["tier"]["code"] in {"BLUE", "SILVER"}
    assert float(tier["windowSpend"]) > 0
    assert tier["nextTier"] is not None
    assert float(tier["spendToNextTier"]) > 0


async def test_the_demo_has_rewards_and_a_coupon_in_the_members_wallet(app, client, settings):
    """The catalogue lists rewards, some affordable; the wallet holds an ACTIVE coupon."""
    await load_demo(settings, only_if_empty=True)
    token = await create_session(await Member.get(email=DEMO_EMAIL))

    body = await gql(client, REWARDS_AND_WALLET, token=token)

    assert len(body["data"]["rewards"]["edges"]) >= 5
    assert True in {edge["node"]["redeemable"] for edge in body["data"]["rewards"]["edges"]}
    coupons = body["data"]["me"]["coupons"]["edges"]
    assert [edge["node"]["status"] for edge in coupons] == ["ACTIVE"]
    assert coupons[0]["node"]["reward"]["title"] == "Coffee for the team"


async def test_the_demo_history_shows_returns(app, client, settings):
    """Two purchases came back (one in part, one whole): their points were taken back."""
    await load_demo(settings, only_if_empty=True)
    member = await Member.get(email=DEMO_EMAIL)
    token = await create_session(member)

    body = await gql(client, RETURNS, token=token)

    returned = [
        edge["node"]
        for edge in body["data"]["me"]["transactions"]["edges"]
        if edge["node"]["returnedTotal"] != "0.00"
    ]
    assert len(returned) == 2
    assert all(node["pointsReturned"] > 0 for node in returned)
    assert [node for node in returned if node["returnedTotal"] == node["total"]] != []
    kinds = {edge["node"]["kind"] for edge in body["data"]["me"]["pointsHistory"]["edges"]}
    assert "RETURN" in kinds
