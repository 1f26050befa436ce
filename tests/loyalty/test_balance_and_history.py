"""me.points, me.pointsHistory and me.transactions: buckets right at every read, newest first."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bff.loyalty.models import EntryKind, PointsEntry, PointsLot
from bff.loyalty.purchases import PurchaseRequest, record_purchase
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.loyalty.store import buy, issue_card
from tests.loyalty.test_card_lifecycle import UNLINK
from tests.loyalty.test_linking import link

POINTS = """
query {
  me { points { available pending expiringSoon nextExpiryAt lifetimeEarned spent expired } }
}
"""
HISTORY = """
query History($first: Int, $after: String) {
  me {
    pointsHistory(first: $first, after: $after) {
      edges { cursor node { id kind amount occurredAt transaction { receiptId card { number } } } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}
"""
TRANSACTIONS = """
query Transactions($first: Int, $after: String, $cardId: ID) {
  me {
    transactions(first: $first, after: $after, cardId: $cardId) {
      edges { cursor node { id receiptId total pointsEarned pointsRedeemed card { id } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""
CARD_TRANSACTIONS = """
query { me { cards { number transactions(first: 10) { edges { node { receiptId } } } } } }
"""
OFFERS = """
query Offers($first: Int, $after: String) {
  offers(first: $first, after: $after) { edges { cursor } }
}
"""
CARD_TRANSACTIONS_AFTER = """
query Cards($first: Int, $after: String) {
  me { cards { transactions(first: $first, after: $after) { edges { node { receiptId } } } } }
}
"""


def days_ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


async def member_with_card(client):
    member, token = await signed_in_member()
    number, code = await issue_card(client)
    card = (await link(client, token, number, code))["card"]
    return member, token, number, card["id"]


async def test_the_buckets_show_pending_available_expiring_and_expired_points(client):
    """Each purchase's points land in the bucket its age puts them in, with no job run."""
    _, token, number, _ = await member_with_card(client)
    await buy(client, number, "100.00", occurredAt=days_ago(400))  # expired
    await buy(client, number, "200.00", occurredAt=days_ago(350))  # expiring within 30 days
    await buy(client, number, "300.00", occurredAt=days_ago(100))  # available
    await buy(client, number, "400.00", occurredAt=days_ago(3))  # pending

    points = (await gql(client, POINTS, token=token))["data"]["me"]["points"]

    assert points["available"] == 50
    assert points["pending"] == 40
    assert points["expiringSoon"] == 20
    assert points["expired"] == 10
    assert points["lifetimeEarned"] == 100
    assert points["spent"] == 0
    expected_expiry = datetime.now(UTC) - timedelta(days=350) + timedelta(days=365)
    next_expiry = datetime.fromisoformat(points["nextExpiryAt"])
    assert abs(next_expiry - expected_expiry) < timedelta(minutes=1)


async def test_expiry_shows_as_an_expire_entry_and_the_balance_is_the_sum_of_entries(client):
    """Reading writes the due EXPIRE entry once; the entries add up to available + pending."""
    member, token, number, _ = await member_with_card(client)
    await buy(client, number, "100.00", occurredAt=days_ago(400))
    await buy(client, number, "300.00", occurredAt=days_ago(100))
    await buy(client, number, "50.00", pointsToRedeem=5)

    first = (await gql(client, POINTS, token=token))["data"]["me"]["points"]
    second = (await gql(client, POINTS, token=token))["data"]["me"]["points"]

    assert first == second
    expires = await PointsEntry.filter(member_id=member.id, kind=EntryKind.EXPIRE)
    assert [entry.amount for entry in expires] == [-10]
    total = sum(entry.amount for entry in await PointsEntry.filter(member_id=member.id))
    assert total == first["available"] + first["pending"] == 30
    assert first["spent"] == 5


async def test_history_is_newest_first_and_links_entries_to_their_purchases(client):
    """EARN and REDEEM entries point at their transaction and its card."""
    _, token, number, _ = await member_with_card(client)
    await buy(client, number, "300.00", occurredAt=days_ago(30))
    redeeming = await buy(client, number, "10.00", pointsToRedeem=7)

    body = await gql(client, HISTORY, {"first": 10}, token=token)

    edges = body["data"]["me"]["pointsHistory"]["edges"]
    assert [(edge["node"]["kind"], edge["node"]["amount"]) for edge in edges] == [
        ("EARN", 1),
        ("REDEEM", -7),
        ("EARN", 30),
    ]
    assert edges[1]["node"]["transaction"]["receiptId"] == redeeming["receiptId"]
    assert edges[1]["node"]["transaction"]["card"]["number"] == number


async def test_transaction_pages_stay_stable_while_new_purchases_arrive(client):
    """The cursor of page one still leads to the next older purchases after a new receipt."""
    _, token, number, _ = await member_with_card(client)
    receipts = [
        (await buy(client, number, "10.00", occurredAt=days_ago(10 - day)))["receiptId"]
        for day in range(5)
    ]
    first_page = await gql(client, TRANSACTIONS, {"first": 2}, token=token)
    cursor = first_page["data"]["me"]["transactions"]["pageInfo"]["endCursor"]

    await buy(client, number, "10.00")
    second_page = await gql(client, TRANSACTIONS, {"first": 2, "after": cursor}, token=token)

    first_ids = [e["node"]["receiptId"] for e in first_page["data"]["me"]["transactions"]["edges"]]
    page = second_page["data"]["me"]["transactions"]
    assert first_ids == [receipts[4], receipts[3]]
    assert [edge["node"]["receiptId"] for edge in page["edges"]] == [receipts[2], receipts[1]]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is True


@pytest.mark.parametrize("on_card", [False, True], ids=["all cards", "one card"])
async def test_paging_through_purchases_made_at_the_same_moment_shows_each_once(client, on_card):
    """Purchases with one occurredAt are told apart by id: pages after a cursor, on one card or
    on all of them, list every purchase exactly once, newest first."""
    _, token, number, card_id = await member_with_card(client)
    moment = days_ago(2)
    receipts = [
        (await buy(client, number, "10.00", occurredAt=moment))["receiptId"] for _ in range(5)
    ]
    variables = {"first": 2, "cardId": card_id if on_card else None}

    seen, after, pages = [], None, 0
    while True:
        body = await gql(client, TRANSACTIONS, {**variables, "after": after}, token=token)
        page = body["data"]["me"]["transactions"]
        seen += [edge["node"]["receiptId"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == receipts[::-1]
    assert pages == 3


async def test_every_cards_page_after_a_cursor_holds_that_cards_older_purchases(client):
    """Card.transactions(after:) on many cards at once: each card's purchases past the cursor."""
    _, token, first_number, _ = await member_with_card(client)
    second_number, second_code = await issue_card(client)
    await link(client, token, second_number, second_code)
    older_on_first = await buy(client, first_number, "10.00", occurredAt=days_ago(6))
    older_on_second = await buy(client, second_number, "10.00", occurredAt=days_ago(5))
    await buy(client, first_number, "10.00", occurredAt=days_ago(4))
    await buy(client, second_number, "10.00", occurredAt=days_ago(3))
    newest_two = await gql(client, TRANSACTIONS, {"first": 2}, token=token)
    cursor = newest_two["data"]["me"]["transactions"]["pageInfo"]["endCursor"]

    body = await gql(client, CARD_TRANSACTIONS_AFTER, {"first": 5, "after": cursor}, token=token)

    pages = [
        [edge["node"]["receiptId"] for edge in card["transactions"]["edges"]]
        for card in body["data"]["me"]["cards"]
    ]
    assert pages == [[older_on_first["receiptId"]], [older_on_second["receiptId"]]]


async def test_transactions_can_be_filtered_by_card(client):
    """cardId narrows me.transactions to one card; Card.transactions agrees."""
    _, token, first_number, first_id = await member_with_card(client)
    second_number, second_code = await issue_card(client)
    await link(client, token, second_number, second_code)
    on_first = await buy(client, first_number, "10.00")
    await buy(client, second_number, "20.00")

    body = await gql(client, TRANSACTIONS, {"cardId": first_id}, token=token)
    cards = (await gql(client, CARD_TRANSACTIONS, token=token))["data"]["me"]["cards"]

    edges = body["data"]["me"]["transactions"]["edges"]
    assert [edge["node"]["receiptId"] for edge in edges] == [on_first["receiptId"]]
    assert edges[0]["node"]["card"]["id"] == first_id
    assert edges[0]["node"]["total"] == "10.00"
    by_card = {card["number"]: card["transactions"]["edges"] for card in cards}
    assert [edge["node"]["receiptId"] for edge in by_card[first_number]] == [on_first["receiptId"]]
    assert len(by_card[second_number]) == 1


async def test_first_is_capped_by_the_largest_page_size(client, settings):
    """Asking for more than MAX_PAGE_SIZE rows is an INVALID_INPUT error."""
    _, token, _, _ = await member_with_card(client)

    body = await gql(client, TRANSACTIONS, {"first": settings.max_page_size + 1}, token=token)

    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_a_forged_cursor_is_invalid_input(client):
    """A cursor the server did not make is refused, not a server error."""
    _, token, _, _ = await member_with_card(client)

    body = await gql(client, TRANSACTIONS, {"after": "bm9wZQ"}, token=token)

    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_other_members_transactions_and_entries_are_not_nodes_for_me(client):
    """node(id) of another member's purchase or entry is null."""
    _, owner, number, _ = await member_with_card(client)
    _, other = await signed_in_member()
    await buy(client, number, "100.00")
    history = await gql(client, HISTORY, {"first": 1}, token=owner)
    entry_id = history["data"]["me"]["pointsHistory"]["edges"][0]["node"]["id"]
    transactions = await gql(client, TRANSACTIONS, {"first": 1}, token=owner)
    transaction_id = transactions["data"]["me"]["transactions"]["edges"][0]["node"]["id"]
    node = "query N($id: ID!) { node(id: $id) { id } }"

    mine = [await gql(client, node, {"id": i}, token=owner) for i in (entry_id, transaction_id)]
    theirs = [await gql(client, node, {"id": i}, token=other) for i in (entry_id, transaction_id)]

    assert [body["data"]["node"]["id"] for body in mine] == [entry_id, transaction_id]
    assert [body["data"]["node"] for body in theirs] == [None, None]


def cursor_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


HOSTILE_CURSORS = [
    ["2026-01-01T00:00:00+00:00", 2**70],
    ["2026-01-01T00:00:00+00:00", 2**63],
    ["0001-01-01T00:00:00+05:00", 1],
    ["9999-12-31T23:59:59-05:00", 1],
    ["2026-01-01T00:00:00", 1],
    ["2026-01-01T00:00:00+00:00", -1],
]


@pytest.mark.parametrize("position", HOSTILE_CURSORS)
@pytest.mark.parametrize("document", [TRANSACTIONS, HISTORY, CARD_TRANSACTIONS_AFTER, OFFERS])
async def test_a_cursor_with_a_position_no_row_can_have_is_invalid_input(
    client, position, document
):
    """Ids beyond BIGINT, times with no UTC equivalent, naive times: INVALID_INPUT, never 500."""
    _, token, number, _ = await member_with_card(client)
    await buy(client, number, "100.00")

    body = await gql(client, document, {"first": 1, "after": cursor_of(position)}, token=token)

    assert [error["extensions"]["code"] for error in body["errors"]] == ["INVALID_INPUT"]


@pytest.mark.parametrize(
    "card_id",
    [
        "",
        "not an id",
        base64.urlsafe_b64encode(b"Offer:1").decode(),
        base64.urlsafe_b64encode(b"Card:999999").decode(),
        base64.urlsafe_b64encode(f"Card:{2**70}".encode()).decode(),
    ],
)
async def test_a_card_id_that_is_not_one_of_my_cards_is_not_found(client, card_id):
    """Malformed, of another type or unknown: the same NOT_FOUND error on cardId."""
    _, token, _, _ = await member_with_card(client)

    body = await gql(client, TRANSACTIONS, {"cardId": card_id}, token=token)

    assert body["data"] == {"me": None}
    assert [error["extensions"] for error in body["errors"]] == [
        {"code": "NOT_FOUND", "field": "cardId"}
    ]
    assert body["errors"][0]["message"] == "You have no card with this id."


async def test_another_members_card_id_is_as_unknown_as_no_card_at_all(client):
    """Filtering by someone else's card, or by one I unlinked, is the same NOT_FOUND."""
    _, owner, number, card_id = await member_with_card(client)
    _, other = await signed_in_member()
    await buy(client, number, "100.00")
    unknown = base64.urlsafe_b64encode(b"Card:999999").decode()

    theirs = await gql(client, TRANSACTIONS, {"cardId": card_id}, token=other)
    await gql(client, UNLINK, {"input": {"cardId": card_id}}, token=owner)
    unlinked = await gql(client, TRANSACTIONS, {"cardId": card_id}, token=owner)
    nothing = await gql(client, TRANSACTIONS, {"cardId": unknown}, token=other)

    assert theirs["errors"] == nothing["errors"]
    assert unlinked["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "cardId"}


async def test_a_purchase_landing_during_a_balance_read_never_splits_buckets_from_totals(
    client, settings, monkeypatch
):
    """A receipt committed while me.points is being read: the buckets and the totals come from
    one moment, so lifetimeEarned - spent - expired = available + pending in every answer."""
    _, token, number, _ = await member_with_card(client)
    await buy(client, number, "300.00", occurredAt=days_ago(30))
    await buy(client, number, "50.00", pointsToRedeem=5)
    database = type(PointsLot._meta.db)
    original = database.execute_query_dict
    landed = []

    async def receipt_lands_after_the_lots_are_read(self, query, *args, **kwargs):
        rows = await original(self, query, *args, **kwargs)
        if "points_lot" in query and "SUM(" in query and not landed:
            landed.append(True)
            request = PurchaseRequest(
                receipt_id="R-during-read", card_number=number, store_id="s", total=Decimal(700)
            )
            await record_purchase(request=request, settings=settings)
        return rows

    monkeypatch.setattr(database, "execute_query_dict", receipt_lands_after_the_lots_are_read)

    points = (await gql(client, POINTS, token=token))["data"]["me"]["points"]

    assert landed
    assert points["lifetimeEarned"] - points["spent"] - points["expired"] == (
        points["available"] + points["pending"]
    )
