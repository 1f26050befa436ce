"""A linked card: deactivated and activated again, unlinked (keeping its points), and as a node."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bff.loyalty.models import Card
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.loyalty.store import buy, issue_card, receipt, store_post
from tests.loyalty.test_linking import link

DEACTIVATE = """
mutation Off($input: CardIdInput!) {
  deactivateCard(input: $input) { card { id status } userErrors { field code } }
}
"""
ACTIVATE = """
mutation On($input: CardIdInput!) {
  activateCard(input: $input) { card { id status } userErrors { field code } }
}
"""
UNLINK = """
mutation Unlink($input: CardIdInput!) {
  unlinkCard(input: $input) {
    member { cards { id } points { available pending } }
    userErrors { code }
  }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { id ... on Card { number status } } }"
POINTS = "query { me { points { available pending } } }"


async def linked_card(client, token):
    number, code = await issue_card(client)
    card = (await link(client, token, number, code))["card"]
    return number, card["id"]


async def test_a_deactivated_card_is_refused_at_the_till_until_activated_again(client):
    """INACTIVE cannot earn; ACTIVE again can."""
    _, token = await signed_in_member()
    number, card_id = await linked_card(client, token)

    off = await gql(client, DEACTIVATE, {"input": {"cardId": card_id}}, token=token)
    refused = await store_post(client, "purchases", receipt(number))
    on = await gql(client, ACTIVATE, {"input": {"cardId": card_id}}, token=token)
    accepted = await store_post(client, "purchases", receipt(number))

    assert off["data"]["deactivateCard"]["card"]["status"] == "INACTIVE"
    assert refused.status_code == 409
    assert on["data"]["activateCard"]["card"]["status"] == "ACTIVE"
    assert accepted.status_code == 201


async def test_another_members_card_cannot_be_deactivated(client):
    """A card of someone else is NOT_FOUND, and stays active."""
    _, owner = await signed_in_member()
    _, other = await signed_in_member()
    _, card_id = await linked_card(client, owner)

    body = await gql(client, DEACTIVATE, {"input": {"cardId": card_id}}, token=other)

    assert body["data"]["deactivateCard"]["userErrors"][0]["code"] == "NOT_FOUND"
    node = await gql(client, NODE, {"id": card_id}, token=owner)
    assert node["data"]["node"]["status"] == "ACTIVE"


async def test_unlinking_keeps_the_points_the_card_brought(client):
    """After unlinking, the member keeps its points; new purchases on the card are not theirs."""
    _, token = await signed_in_member()
    number, card_id = await linked_card(client, token)
    earlier = datetime.now(UTC) - timedelta(days=20)
    await buy(client, number, "300.00", occurredAt=earlier.isoformat())

    body = await gql(client, UNLINK, {"input": {"cardId": card_id}}, token=token)
    await buy(client, number, "1000.00")

    result = body["data"]["unlinkCard"]
    assert result["userErrors"] == []
    assert result["member"]["cards"] == []
    assert result["member"]["points"] == {"available": 30, "pending": 0}
    after = await gql(client, POINTS, token=token)
    assert after["data"]["me"]["points"] == {"available": 30, "pending": 0}


async def test_a_card_relinked_by_someone_else_brings_only_what_it_earned_since(client):
    """The second member gets the purchases made after the first unlinked the card."""
    first_member, first = await signed_in_member()
    _, second = await signed_in_member()
    number, code = await issue_card(client)
    card_id = (await link(client, first, number, code))["card"]["id"]
    await buy(client, number, "100.00")
    await gql(client, UNLINK, {"input": {"cardId": card_id}}, token=first)
    await buy(client, number, "200.00")

    await link(client, second, number, code)

    first_points = await gql(client, POINTS, token=first)
    second_points = await gql(client, POINTS, token=second)
    assert first_points["data"]["me"]["points"]["pending"] == 10
    assert second_points["data"]["me"]["points"]["pending"] == 20
    assert first_member.id


async def test_a_card_node_is_null_for_other_members(client):
    """node(id) shows a card only to the member it is linked to."""
    _, owner = await signed_in_member()
    _, other = await signed_in_member()
    number, card_id = await linked_card(client, owner)

    mine = await gql(client, NODE, {"id": card_id}, token=owner)
    theirs = await gql(client, NODE, {"id": card_id}, token=other)
    anonymous = await gql(client, NODE, {"id": card_id})

    assert mine["data"]["node"]["number"] == number
    assert theirs["data"]["node"] is None
    assert anonymous["data"]["node"] is None


async def test_linking_ones_own_card_again_changes_nothing(client):
    """A repeated linkCard for a card already on this account answers with the card."""
    _, token = await signed_in_member()
    number, code = await issue_card(client)
    first = await link(client, token, number, code)

    again = await link(client, token, number, code)

    assert again["userErrors"] == []
    assert again["card"]["id"] == first["card"]["id"]


async def test_a_purchase_keeps_its_owner_but_hides_the_card_once_unlinked(client):
    """Transaction.card is null when the card is no longer linked to the purchase's owner."""
    _, token = await signed_in_member()
    number, card_id = await linked_card(client, token)
    await buy(client, number, "100.00")
    query = "query { me { transactions { edges { node { total card { id } } } } } }"
    before = await gql(client, query, token=token)

    await gql(client, UNLINK, {"input": {"cardId": card_id}}, token=token)
    after = await gql(client, query, token=token)

    assert before["data"]["me"]["transactions"]["edges"][0]["node"]["card"] == {"id": card_id}
    assert after["data"]["me"]["transactions"]["edges"][0]["node"] == {
        "total": "100.00",
        "card": None,
    }


async def test_linking_many_cards_at_once_stops_at_the_limit(client, settings):
    """Parallel linkCard calls by one member: the member row lock keeps the count at 5."""
    member, token = await signed_in_member()
    cards = [await issue_card(client) for _ in range(settings.max_cards_per_member + 3)]

    results = await asyncio.gather(*(link(client, token, number, code) for number, code in cards))

    linked = [result for result in results if result["userErrors"] == []]
    refused = {result["userErrors"][0]["code"] for result in results if result["userErrors"]}
    assert len(linked) == settings.max_cards_per_member
    assert refused == {"CARD_LIMIT_REACHED"}
    assert await Card.filter(member_id=member.id).count() == settings.max_cards_per_member


async def test_members_racing_for_one_card_link_it_once(client):
    """Five members link the same card at once: one wins, the others get CARD_ALREADY_LINKED."""
    number, code = await issue_card(client)
    tokens = [(await signed_in_member())[1] for _ in range(5)]

    results = await asyncio.gather(*(link(client, token, number, code) for token in tokens))

    winners = [result for result in results if result["userErrors"] == []]
    losers = {result["userErrors"][0]["code"] for result in results if result["userErrors"]}
    assert len(winners) == 1
    assert losers == {"CARD_ALREADY_LINKED"}
