"""Offers: public, exclusive and targeted, each inside its window; activated once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bff.identity.models import ProgramStatus
from bff.offers.models import OfferActivation
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.loyalty.store import store_post

PUBLIC_OFFERS = """
query Offers($first: Int, $after: String) {
  offers(first: $first, after: $after) {
    edges { cursor node { id title exclusive activated validUntil } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
MY_OFFERS = "query { me { offers(first: 50) { edges { node { id title activated } } } } }"
ACTIVATE = """
mutation A($input: ActivateOfferInput!) {
  activateOffer(input: $input) { offer { id activated } userErrors { field code } }
}
"""
NODE = "query N($id: ID!) { node(id: $id) { id ... on Offer { title } } }"


async def create_offer(client, title, *, starts=-1, ends=10, **extra):
    now = datetime.now(UTC)
    body = {
        "title": title,
        "description": f"About {title}",
        "discountPercent": 10,
        "validFrom": (now + timedelta(days=starts)).isoformat(),
        "validUntil": (now + timedelta(days=ends)).isoformat(),
        **extra,
    }
    response = await store_post(client, "offers", body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def titles(connection):
    return [edge["node"]["title"] for edge in connection["edges"]]


async def test_public_offers_need_no_session_and_end_soonest_first(client):
    """Query.offers lists public offers in their window, soonest-ending first."""
    await create_offer(client, "later", ends=20)
    await create_offer(client, "sooner", ends=2)
    await create_offer(client, "not yet", starts=1)
    await create_offer(client, "over", starts=-10, ends=-1)
    await create_offer(client, "vip", exclusive=True)
    member, _ = await signed_in_member()
    await create_offer(client, "for one", memberEmail=member.email)

    body = await gql(client, PUBLIC_OFFERS)

    assert titles(body["data"]["offers"]) == ["sooner", "later"]
    assert [edge["node"]["activated"] for edge in body["data"]["offers"]["edges"]] == [False, False]


async def test_public_offers_page_with_keyset_cursors(client):
    """first/after walk the list without repeats."""
    for day in range(1, 6):
        await create_offer(client, f"offer {day}", ends=day)

    first = await gql(client, PUBLIC_OFFERS, {"first": 2})
    cursor = first["data"]["offers"]["pageInfo"]["endCursor"]
    second = await gql(client, PUBLIC_OFFERS, {"first": 2, "after": cursor})

    assert titles(first["data"]["offers"]) == ["offer 1", "offer 2"]
    assert titles(second["data"]["offers"]) == ["offer 3", "offer 4"]


async def test_me_offers_show_public_exclusive_and_own_targeted_offers(client):
    """An enrolled member sees public, exclusive and their targeted offers, not others'."""
    member, token = await signed_in_member()
    other, _ = await signed_in_member()
    await create_offer(client, "public", ends=1)
    await create_offer(client, "vip", ends=2, exclusive=True)
    await create_offer(client, "mine", ends=3, memberEmail=member.email.upper())
    await create_offer(client, "theirs", ends=4, memberEmail=other.email)

    body = await gql(client, MY_OFFERS, token=token)

    assert titles(body["data"]["me"]["offers"]) == ["public", "vip", "mine"]


async def test_opted_out_members_do_not_see_exclusive_offers(client):
    """Exclusive offers are for ENROLLED members only."""
    member, token = await signed_in_member(program_status=ProgramStatus.OPTED_OUT)
    await create_offer(client, "public", ends=1)
    await create_offer(client, "vip", ends=2, exclusive=True)
    await create_offer(client, "mine", ends=3, memberEmail=member.email)

    body = await gql(client, MY_OFFERS, token=token)

    assert titles(body["data"]["me"]["offers"]) == ["public", "mine"]


async def test_a_member_activates_an_offer_once(client):
    """Activating twice keeps one activation; `activated` turns true."""
    member, token = await signed_in_member()
    offer_id = await create_offer(client, "public")

    first = await gql(client, ACTIVATE, {"input": {"offerId": offer_id}}, token=token)
    again = await gql(client, ACTIVATE, {"input": {"offerId": offer_id}}, token=token)
    mine = await gql(client, MY_OFFERS, token=token)
    public = await gql(client, PUBLIC_OFFERS, token=token)

    assert first["data"]["activateOffer"]["offer"]["activated"] is True
    assert again["data"]["activateOffer"]["userErrors"] == []
    assert await OfferActivation.filter(member_id=member.id).count() == 1
    assert mine["data"]["me"]["offers"]["edges"][0]["node"]["activated"] is True
    assert public["data"]["offers"]["edges"][0]["node"]["activated"] is True


async def test_offers_the_member_cannot_see_are_not_available(client):
    """Another's targeted offer, an exclusive one when opted out, or outside the window."""
    _, token = await signed_in_member(program_status=ProgramStatus.OPTED_OUT)
    other, _ = await signed_in_member()
    unavailable = [
        await create_offer(client, "theirs", memberEmail=other.email),
        await create_offer(client, "vip", exclusive=True),
        await create_offer(client, "not yet", starts=1),
        await create_offer(client, "over", starts=-5, ends=-1),
        "T2ZmZXI6OTk5OTk",
        "not-an-id",
    ]

    results = [
        await gql(client, ACTIVATE, {"input": {"offerId": offer_id}}, token=token)
        for offer_id in unavailable
    ]

    codes = {body["data"]["activateOffer"]["userErrors"][0]["code"] for body in results}
    assert codes == {"OFFER_NOT_AVAILABLE"}


async def test_an_offer_node_is_shown_only_to_those_who_may_see_it(client):
    """A targeted offer is a node for its member only."""
    member, token = await signed_in_member()
    _, other = await signed_in_member()
    offer_id = await create_offer(client, "mine", memberEmail=member.email)

    mine = await gql(client, NODE, {"id": offer_id}, token=token)
    theirs = await gql(client, NODE, {"id": offer_id}, token=other)
    anonymous = await gql(client, NODE, {"id": offer_id})

    assert mine["data"]["node"]["title"] == "mine"
    assert theirs["data"]["node"] is None
    assert anonymous["data"]["node"] is None


async def test_an_offer_for_an_unknown_email_is_member_not_found(client):
    """POST /internal/v1/offers with a memberEmail nobody has is 404."""
    now = datetime.now(UTC)

    response = await store_post(
        client,
        "offers",
        {
            "title": "t",
            "description": "d",
            "validFrom": now.isoformat(),
            "validUntil": (now + timedelta(days=1)).isoformat(),
            "memberEmail": "nobody@example.com",
        },
    )

    assert response.status_code == 404
    assert response.json()["error"] == "MEMBER_NOT_FOUND"


async def test_a_malformed_offer_is_422(client):
    """A window that ends before it starts, or a discount over 100, is INVALID_INPUT."""
    now = datetime.now(UTC)
    base = {"title": "t", "description": "d", "validFrom": now.isoformat()}

    backwards = await store_post(
        client, "offers", {**base, "validUntil": (now - timedelta(days=1)).isoformat()}
    )
    too_much = await store_post(
        client,
        "offers",
        {**base, "validUntil": (now + timedelta(days=1)).isoformat(), "discountPercent": 101},
    )

    assert backwards.status_code == too_much.status_code == 422
    assert backwards.json()["details"][0]["field"] == "validUntil"


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Sale\x00"},
        {"description": "Half price\x00"},
        {"memberEmail": "anna\x00@example.com"},
        {"validFrom": "0001-01-01T00:00:00+05:00"},
        {"validUntil": "9999-12-31T23:59:59-05:00"},
    ],
)
async def test_an_offer_with_nul_bytes_or_times_out_of_range_is_422(client, change):
    """PostgreSQL refuses NUL in text and Python cannot hold such times in UTC: bad input."""
    now = datetime.now(UTC)
    body = {
        "title": "t",
        "description": "d",
        "validFrom": now.isoformat(),
        "validUntil": (now + timedelta(days=1)).isoformat(),
    }

    response = await store_post(client, "offers", {**body, **change})

    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == next(iter(change))
