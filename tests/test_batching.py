"""Per-parent pages and `node(id)` lookups batch: the statements do not grow with the parents."""

from __future__ import annotations

from bff.ids import to_global_id
from bff.loyalty.models import PointsEntry, Purchase
from bff.offers.models import Offer
from tests.graphql_client import gql
from tests.sql_counter import gql_with_statements
from tests.test_client_operations import create_offers, member_with

CARDS_WITH_TRANSACTIONS = """
query CardsWithTransactions {
  me { cards { id transactions(first: 3) { edges { node { id } } pageInfo { hasNextPage } } } }
}
"""
CARD_TRANSACTIONS = """
query CardTransactions($id: ID!) {
  node(id: $id) { ... on Card { transactions(first: 3) { edges { node { id } } } } }
}
"""


def nodes_query(ids: list[str]) -> str:
    fields = " ".join(f'n{i}: node(id: "{id_}") {{ id }}' for i, id_ in enumerate(ids))
    return f"query Nodes {{ {fields} }}"


async def test_the_first_pages_of_many_cards_come_from_one_windowed_query(client):
    """Five cards' transactions cost what one card's do, and each card gets its own page."""
    small = await member_with(cards=1, purchases=5)
    big = await member_with(cards=5, purchases=60)

    _, for_small = await gql_with_statements(client, CARDS_WITH_TRANSACTIONS, token=small[1])
    body, for_big = await gql_with_statements(client, CARDS_WITH_TRANSACTIONS, token=big[1])

    assert for_small.count == for_big.count
    assert any("ROW_NUMBER() OVER" in sql for sql in for_big.statements)
    for card in body["data"]["me"]["cards"]:
        alone = await gql(client, CARD_TRANSACTIONS, {"id": card["id"]}, token=big[1])
        assert card["transactions"]["edges"] == alone["data"]["node"]["transactions"]["edges"]
        assert len(card["transactions"]["edges"]) == 3
        assert card["transactions"]["pageInfo"]["hasNextPage"] is True


async def test_node_lookups_of_every_type_batch_per_type(client):
    """One or five ids of each type: the same statements; others' objects are null."""
    await create_offers(10)
    member, token, cards = await member_with(cards=5, purchases=10)
    stranger = await member_with(cards=1, purchases=1)
    purchases = await Purchase.filter(member_id=member.id).limit(5)
    entries = await PointsEntry.filter(member_id=member.id).limit(5)
    offers = await Offer.filter(exclusive=False).limit(5)
    ids = {
        "Card": [to_global_id("Card", card.id) for card in cards],
        "Transaction": [to_global_id("Transaction", p.id) for p in purchases],
        "PointsEntry": [to_global_id("PointsEntry", e.id) for e in entries],
        "Offer": [to_global_id("Offer", o.id) for o in offers],
    }
    one = [found[0] for found in ids.values()]
    five = [id_ for found in ids.values() for id_ in found]

    _, for_one = await gql_with_statements(client, nodes_query(one), token=token)
    body, for_five = await gql_with_statements(client, nodes_query(five), token=token)
    foreign, _ = await gql_with_statements(client, nodes_query(five), token=stranger[1])

    assert for_one.count == for_five.count
    assert [node["id"] for node in body["data"].values()] == five
    assert [foreign["data"][f"n{i}"] for i in range(15)] == [None] * 15
    assert [foreign["data"][f"n{i}"]["id"] for i in range(15, 20)] == ids["Offer"]
