"""POST /internal/v1/returns: a return takes back the points its part of the purchase earned,
pending points first, never below zero, once per return id."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bff import events
from bff.loyalty.models import (
    Card,
    CardStatus,
    EntryKind,
    PointsEntry,
    PointsLot,
    Purchase,
    PurchaseReturn,
)
from bff.loyalty.purchases import PurchaseRequest, record_purchase
from bff.loyalty.returns import ReturnRequest, record_return
from bff.loyalty.tiers import TierCode, read_tiers
from bff.profile.export import export_member_data
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.loyalty.store import buy, issue_card, receipt, store_post
from tests.loyalty.test_linking import link

_returns = itertools.count(1)

HISTORY = """
query {
  me {
    points { available pending lifetimeEarned spent }
    transactions { edges { node { receiptId total returnedTotal pointsReturned } } }
    pointsHistory { edges { node { kind amount transaction { receiptId } } } }
  }
}
"""


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def a_return(receipt_id: str, amount: str, **extra: object) -> dict[str, object]:
    return {"returnId": f"RET-{next(_returns)}", "receiptId": receipt_id, "amount": amount, **extra}


async def give_back(client, receipt_id: str, amount: str, **extra: object) -> dict[str, object]:
    """Record a return and answer the store API's body (asserting it was recorded)."""
    response = await store_post(client, "returns", a_return(receipt_id, amount, **extra))
    assert response.status_code == 201, response.text
    return response.json()


async def member_with_card(client):
    """A signed-in member with one linked card: (member, token, card number)."""
    member, token = await signed_in_member()
    number, code = await issue_card(client)
    await link(client, token, number, code)
    return member, token, number


async def lots_by_receipt() -> dict[str, int]:
    """What each purchase's lot has left, by receipt id."""
    rows = await PointsLot.all().values_list("earn_entry__purchase__receipt_id", "remaining")
    return dict(rows)


async def test_a_return_takes_back_the_points_its_part_of_the_purchase_earned(client):
    """1234.50 earned 123 pending points; returning 500.00 of it takes back 50: a RETURN entry,
    the purchase shows what came back, and the balance follows."""
    _, token, number = await member_with_card(client)
    bought = await buy(client, number, "1234.50")

    answer = await give_back(client, bought["receiptId"], "500.00")

    assert answer["pointsReturned"] == 50
    assert answer["pointsShortfall"] == 0
    me = (await gql(client, HISTORY, token=token))["data"]["me"]
    assert me["points"] == {"available": 0, "pending": 73, "lifetimeEarned": 123, "spent": 0}
    transaction = me["transactions"]["edges"][0]["node"]
    assert transaction == {
        "receiptId": bought["receiptId"],
        "total": "1234.50",
        "returnedTotal": "500.00",
        "pointsReturned": 50,
    }
    history = [edge["node"] for edge in me["pointsHistory"]["edges"]]
    assert {"kind": "RETURN", "amount": -50, "transaction": {"receiptId": bought["receiptId"]}} in (
        history
    )


async def test_two_partial_returns_take_back_what_one_whole_return_would(client):
    """Points are counted on the running returned total: two halves of 1234.50 take back 61
    and 62, all 123, where rounding each half down would leave a point behind."""
    _, _, number = await member_with_card(client)
    bought = await buy(client, number, "1234.50")

    first = await give_back(client, bought["receiptId"], "617.25")
    second = await give_back(client, bought["receiptId"], "617.25")

    assert (first["pointsReturned"], second["pointsReturned"]) == (61, 62)
    purchase = await Purchase.get(receipt_id=bought["receiptId"])
    assert (purchase.returned_total, purchase.points_returned) == (Decimal("1234.50"), 123)
    assert await PointsLot.filter(remaining__gt=0).count() == 0


async def test_a_return_takes_pending_points_before_available_ones(client):
    """An old purchase's points are available, a new one's pending: returning part of the old
    purchase takes the pending points first, and the available ones stay redeemable."""
    _, token, number = await member_with_card(client)
    old = await buy(client, number, "1000.00", occurredAt=days_ago(30))
    await buy(client, number, "500.00")

    answer = await give_back(client, old["receiptId"], "300.00")

    assert answer["pointsReturned"] == 30
    points = (await gql(client, HISTORY, token=token))["data"]["me"]["points"]
    assert (points["available"], points["pending"]) == (100, 20)


async def test_a_return_takes_the_purchases_own_lot_first_among_pending_points(client):
    """Two pending purchases: returning the later one empties its own lot, not the older one
    that expires sooner."""
    _, _, number = await member_with_card(client)
    older = await buy(client, number, "400.00", occurredAt=days_ago(3))
    newer = await buy(client, number, "200.00", occurredAt=days_ago(1))

    await give_back(client, newer["receiptId"], "200.00")

    assert await lots_by_receipt() == {older["receiptId"]: 40, newer["receiptId"]: 0}


async def test_then_available_points_when_the_pending_ones_run_out(client):
    """30 pending points and 100 available: a return due 50 takes all 30 pending points and
    20 available ones, soonest-expiring first."""
    _, token, number = await member_with_card(client)
    oldest = await buy(client, number, "600.00", occurredAt=days_ago(60))
    old = await buy(client, number, "400.00", occurredAt=days_ago(30))
    await buy(client, number, "300.00", occurredAt=days_ago(2))

    answer = await give_back(client, old["receiptId"], "400.00")

    assert answer == {"returnId": answer["returnId"], "pointsReturned": 40, "pointsShortfall": 0}
    lots = await lots_by_receipt()
    assert lots[old["receiptId"]] == 30  # the purchase's own lot first among available ones
    assert lots[oldest["receiptId"]] == 60
    points = (await gql(client, HISTORY, token=token))["data"]["me"]["points"]
    assert (points["available"], points["pending"]) == (90, 0)


async def test_spent_points_are_not_clawed_back_below_zero_and_the_shortfall_is_recorded(client):
    """100 points earned a month ago, 80 of them redeemed: returning the whole purchase takes
    the 20 left and records a shortfall of 80, shown in the data export."""
    member, token, number = await member_with_card(client)
    bought = await buy(client, number, "1000.00", occurredAt=days_ago(30))
    await buy(client, number, "5.00", pointsToRedeem=80)

    answer = await give_back(client, bought["receiptId"], "1000.00")

    assert (answer["pointsReturned"], answer["pointsShortfall"]) == (20, 80)
    points = (await gql(client, HISTORY, token=token))["data"]["me"]["points"]
    assert (points["available"], points["pending"], points["spent"]) == (0, 0, 80)
    assert await PointsLot.filter(remaining__lt=0).count() == 0
    export = await export_member_data(member_id=member.id)
    assert export["returns"] == [
        {
            "returnId": answer["returnId"],
            "receiptId": bought["receiptId"],
            "amount": "1000.00",
            "occurredAt": export["returns"][0]["occurredAt"],
            "pointsReturned": 20,
            "pointsShortfall": 80,
        }
    ]


async def test_a_later_return_never_claims_a_shortfall_again(client):
    """What an earlier return could not take counts as claimed: the purchase's points are
    taken back at most once in all, whatever the member earns meanwhile."""
    _, _, number = await member_with_card(client)
    bought = await buy(client, number, "1000.00", occurredAt=days_ago(30))
    await buy(client, number, "5.00", pointsToRedeem=100)
    first = await give_back(client, bought["receiptId"], "500.00")
    await buy(client, number, "2000.00")

    second = await give_back(client, bought["receiptId"], "500.00")

    assert (first["pointsReturned"], first["pointsShortfall"]) == (0, 50)
    assert (second["pointsReturned"], second["pointsShortfall"]) == (50, 0)


async def test_a_return_on_an_unlinked_card_takes_from_the_cards_own_points(client):
    """The card's own points pay for its return; the member who links it later gets the rest,
    with the return in the purchase history."""
    number, code = await issue_card(client)
    bought = await buy(client, number, "800.00")
    await give_back(client, bought["receiptId"], "300.00")
    _, token = await signed_in_member()

    await link(client, token, number, code)

    me = (await gql(client, HISTORY, token=token))["data"]["me"]
    assert me["points"]["pending"] == 50
    assert me["transactions"]["edges"][0]["node"]["pointsReturned"] == 30
    assert await PointsEntry.filter(kind=EntryKind.RETURN, member_id__isnull=True).count() == 0


async def test_a_return_of_a_closed_accounts_purchase_is_recorded_as_a_shortfall(client):
    """The account's points were forfeited when it closed: nothing is left to take back."""
    member, _, number = await member_with_card(client)
    bought = await buy(client, number, "300.00")
    await Purchase.filter(member_id=member.id).update(member_id=None, detached=True)

    answer = await give_back(client, bought["receiptId"], "300.00")

    assert (answer["pointsReturned"], answer["pointsShortfall"]) == (0, 30)
    assert await PointsEntry.filter(kind=EntryKind.RETURN).count() == 0


async def test_a_deactivated_card_still_takes_returns(client):
    """A lost card cannot earn or redeem, but goods bought with it can come back."""
    _, _, number = await member_with_card(client)
    bought = await buy(client, number, "300.00")
    await Card.filter(number=number).update(status=CardStatus.INACTIVE)

    answer = await give_back(client, bought["receiptId"], "300.00")

    assert answer["pointsReturned"] == 30


async def test_a_return_sends_the_member_their_new_balance(client):
    """Like a purchase, a return publishes the member's balance event after it commits."""
    member, _, number = await member_with_card(client)
    bought = await buy(client, number, "300.00")

    async with events.get_bus().subscribe(member.id) as stream:
        await give_back(client, bought["receiptId"], "100.00")
        async with asyncio.timeout(5):
            event = await anext(stream)

    assert (event.kind, event.member_id) == (events.EventKind.POINTS_BALANCE_CHANGED, member.id)


async def test_the_same_return_again_answers_200_with_the_first_answer(client):
    """A retried return is applied once."""
    _, _, number = await member_with_card(client)
    bought = await buy(client, number, "300.00")
    body = a_return(bought["receiptId"], "100.00")
    first = await store_post(client, "returns", body)

    again = await store_post(client, "returns", body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert (
        again.json()
        == first.json()
        == {
            "returnId": body["returnId"],
            "pointsReturned": 10,
            "pointsShortfall": 0,
        }
    )
    assert await PurchaseReturn.all().count() == 1
    assert await PointsEntry.filter(kind=EntryKind.RETURN).count() == 1


async def test_the_same_return_id_with_another_body_is_an_idempotency_conflict(client):
    """Same return id, other amount: 409 IDEMPOTENCY_CONFLICT and nothing changes."""
    _, _, number = await member_with_card(client)
    bought = await buy(client, number, "300.00")
    body = a_return(bought["receiptId"], "100.00")
    await store_post(client, "returns", body)

    response = await store_post(client, "returns", {**body, "amount": "90.00"})

    assert response.status_code == 409
    assert response.json()["error"] == "IDEMPOTENCY_CONFLICT"
    assert (await Purchase.get(receipt_id=bought["receiptId"])).points_returned == 10


async def test_a_return_larger_than_what_is_left_of_the_purchase_is_422(client):
    """60.00 of 100.00 came back already: 50.00 more is refused with a code, nothing written."""
    _, _, number = await member_with_card(client)
    bought = await buy(client, number, "100.00")
    await give_back(client, bought["receiptId"], "60.00")

    response = await store_post(client, "returns", a_return(bought["receiptId"], "50.00"))

    assert response.status_code == 422
    assert response.json()["error"] == "INVALID_INPUT"
    [detail] = response.json()["details"]
    assert (detail["field"], detail["code"]) == ("amount", "RETURN_EXCEEDS_PURCHASE")
    assert "40.00" in detail["message"]
    assert await PurchaseReturn.all().count() == 1
    assert (await give_back(client, bought["receiptId"], "40.00"))["pointsReturned"] == 4


async def test_a_return_of_an_unknown_receipt_is_404(client):
    """No purchase has the receipt id: 404 RECEIPT_NOT_FOUND."""
    response = await store_post(client, "returns", a_return("no-such-receipt", "10.00"))

    assert response.status_code == 404
    assert response.json()["error"] == "RECEIPT_NOT_FOUND"


async def test_a_return_dated_before_its_purchase_or_in_the_future_is_refused(client):
    """occurredAt must lie between the purchase and now (give or take the clock skew)."""
    _, _, number = await member_with_card(client)
    bought = await buy(client, number, "100.00", occurredAt=days_ago(2))

    before = await store_post(
        client, "returns", a_return(bought["receiptId"], "10.00", occurredAt=days_ago(3))
    )
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    ahead = await store_post(
        client, "returns", a_return(bought["receiptId"], "10.00", occurredAt=future)
    )

    assert (before.status_code, ahead.status_code) == (422, 422)
    assert [before.json()["details"][0]["field"], ahead.json()["details"][0]["field"]] == [
        "occurredAt",
        "occurredAt",
    ]
    assert await PurchaseReturn.all().count() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "0"},
        {"amount": "-5.00"},
        {"amount": 5.5},
        {"amount": "1e3"},
        {"amount": "1.001"},
        {"returnId": ""},
        {"returnId": "x" * 65},
        {"receiptId": None},
        {"occurredAt": "2026-01-01T00:00:00"},
        {"extra": 1},
    ],
)
async def test_a_malformed_return_is_422_with_details(client, change):
    """Bad amounts, ids and times are 422 INVALID_INPUT with details, never a server error."""
    body = {**a_return("R-1", "10.00"), **change}

    response = await store_post(client, "returns", body)

    assert response.status_code == 422
    assert response.json()["error"] == "INVALID_INPUT"
    assert response.json()["details"]


async def test_the_same_return_sent_twenty_times_at_once_is_applied_once(client):
    """20 retries of one return at once: one 201, nineteen 200 with the same answer, one RETURN
    entry (row locks on PostgreSQL; SQLite runs one writer at a time)."""
    _, _, number = await member_with_card(client)
    bought = await buy(client, number, "990.00")
    body = a_return(bought["receiptId"], "500.00")

    responses = await asyncio.gather(*(store_post(client, "returns", body) for _ in range(20)))

    assert sorted(response.status_code for response in responses) == [200] * 19 + [201]
    assert all(
        response.json()
        == {"returnId": body["returnId"], "pointsReturned": 50, "pointsShortfall": 0}
        for response in responses
    )
    assert await PurchaseReturn.all().count() == 1
    assert await PointsEntry.filter(kind=EntryKind.RETURN).count() == 1
    assert (await Purchase.get(receipt_id=bought["receiptId"])).returned_total == Decimal("500.00")


async def test_twenty_different_returns_of_one_receipt_at_once_never_return_too_much(client):
    """20 returns of 10.00 each against a 100.00 receipt at once: ten are recorded, ten are
    RETURN_EXCEEDS_PURCHASE, and exactly the purchase's 10 points come back."""
    _, _, number = await member_with_card(client)
    bought = await buy(client, number, "100.00")

    responses = await asyncio.gather(
        *(store_post(client, "returns", a_return(bought["receiptId"], "10.00")) for _ in range(20))
    )

    assert sorted(response.status_code for response in responses) == [201] * 10 + [422] * 10
    assert sum(
        await PointsEntry.filter(kind=EntryKind.RETURN).values_list("amount", flat=True)
    ) == (-10)
    assert await PointsLot.filter(remaining__lt=0).count() == 0


async def test_returns_and_purchases_of_one_member_at_once_keep_the_ledger_whole(client):
    """Returns of one receipt racing redemptions on the member's other card: no lot below
    zero, and the entries add up to the lots."""
    _, token, number = await member_with_card(client)
    other, code = await issue_card(client)
    await link(client, token, other, code)
    bought = await buy(client, number, "1000.00", occurredAt=days_ago(30))

    await asyncio.gather(
        *(
            store_post(client, "returns", a_return(bought["receiptId"], "100.00"))
            for _ in range(10)
        ),
        *(
            store_post(client, "purchases", receipt(other, "5.00", pointsToRedeem=10))
            for _ in range(10)
        ),
    )

    entries = sum(await PointsEntry.all().values_list("amount", flat=True))
    lots = sum(await PointsLot.all().values_list("remaining", flat=True))
    assert entries == lots == 0
    assert await PointsLot.filter(remaining__lt=0).count() == 0


async def test_a_return_takes_back_points_at_the_multiplier_the_purchase_earned_with(client):
    """At Silver 1,000 earns 125 (x1.25): returning 400 of it takes back floor(400 x 1.25 /
    10) = 50."""
    _, _, number = await member_with_card(client)
    await buy(client, number, "150000.00")
    silver = await buy(client, number, "1000.00")

    answer = await give_back(client, silver["receiptId"], "400.00")

    assert silver["pointsEarned"] == 125
    assert answer["pointsReturned"] == 50


async def test_a_return_lowers_the_tier_spend_but_never_drops_the_tier_mid_month(client, settings):
    """Silver from a January purchase; most of it comes back on February 10: the spend
    counted falls below Silver's threshold, yet Silver holds until March 1 (the month's tier
    is fixed from the spend before the return), and March's evaluation drops it."""
    member, _, number = await member_with_card(client)
    bought = await record_purchase(
        request=PurchaseRequest(
            receipt_id="JAN-1",
            card_number=number,
            store_id="store-1",
            total=Decimal("150000.00"),
            occurred_at=datetime(2026, 1, 15, tzinfo=UTC),
        ),
        settings=settings,
        now=datetime(2026, 1, 15, tzinfo=UTC),
    )
    february = datetime(2026, 2, 10, tzinfo=UTC)

    await record_return(
        request=ReturnRequest(return_id="FEB-R", receipt_id="JAN-1", amount=Decimal("100.00")),
        settings=settings,
        now=february,
    )

    tiers = await read_tiers(member_ids=[member.id], now=february, settings=settings)
    march = await read_tiers(
        member_ids=[member.id], now=datetime(2026, 3, 1, 1, tzinfo=UTC), settings=settings
    )
    assert bought.points_earned == 15000
    assert tiers[member.id].window_spend == Decimal("149900.00")
    assert tiers[member.id].tier.code is TierCode.SILVER
    assert tiers[member.id].lapses_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert march[member.id].tier.code is TierCode.BLUE
