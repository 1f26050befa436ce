"""POST /internal/v1/purchases: receipts earn and redeem points, once per receipt id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bff.loyalty.models import Card, CardStatus, EntryKind, PointsEntry, PointsLot, Purchase
from tests.loyalty.store import STORE_HEADERS, buy, issue_card, receipt, store_post


async def test_a_purchase_earns_one_point_per_full_ten_units(client):
    """1234.50 earns 123 points, recorded on the unlinked card."""
    number, _ = await issue_card(client)

    response = await store_post(client, "purchases", receipt(number, "1234.50"))

    assert response.status_code == 201
    assert response.json()["pointsEarned"] == 123
    assert response.json()["pointsRedeemed"] == 0
    lot = await PointsLot.get()
    assert (lot.amount, lot.remaining, lot.member_id) == (123, 123, None)


async def test_a_purchase_under_ten_units_earns_nothing(client):
    """9.99 is not a full 10 units."""
    number, _ = await issue_card(client)

    answer = await buy(client, number, "9.99")

    assert answer["pointsEarned"] == 0
    assert await PointsEntry.all().count() == 0


async def test_the_same_receipt_again_answers_200_with_the_first_answer(client):
    """A retried receipt is recorded once: 200 and the same numbers."""
    number, _ = await issue_card(client)
    body = receipt(number, "250.00")
    first = await store_post(client, "purchases", body)

    again = await store_post(client, "purchases", body)

    assert again.status_code == 200
    assert again.json() == first.json()
    assert await Purchase.all().count() == 1
    assert await PointsEntry.all().count() == 1


async def test_the_same_receipt_with_another_body_is_an_idempotency_conflict(client):
    """Same receipt id, other total: 409 IDEMPOTENCY_CONFLICT and nothing changes."""
    number, _ = await issue_card(client)
    body = receipt(number, "250.00")
    await store_post(client, "purchases", body)

    response = await store_post(client, "purchases", {**body, "total": "260.00"})

    assert response.status_code == 409
    assert response.json()["error"] == "IDEMPOTENCY_CONFLICT"
    assert await Purchase.all().count() == 1


async def test_the_same_receipt_with_an_equal_total_written_differently_is_a_replay(client):
    """ "250" and "250.00" are the same money."""
    number, _ = await issue_card(client)
    body = receipt(number, "250.00")
    await store_post(client, "purchases", body)

    response = await store_post(client, "purchases", {**body, "total": "250"})

    assert response.status_code == 200


async def test_a_purchase_on_an_unknown_card_is_404(client):
    """A valid number that no store issued is CARD_NOT_FOUND."""

    response = await store_post(client, "purchases", receipt("4006381333931"))

    assert response.status_code == 404
    assert response.json()["error"] == "CARD_NOT_FOUND"


async def test_an_inactive_card_can_neither_earn_nor_redeem(client):
    """A deactivated card is 409 CARD_INACTIVE at the till."""
    number, _ = await issue_card(client)
    await Card.filter(number=number).update(status=CardStatus.INACTIVE)

    earning = await store_post(client, "purchases", receipt(number))
    redeeming = await store_post(client, "purchases", receipt(number, pointsToRedeem=1))

    assert earning.status_code == redeeming.status_code == 409
    assert earning.json()["error"] == redeeming.json()["error"] == "CARD_INACTIVE"


async def test_points_are_pending_during_the_return_window_so_cannot_be_redeemed(client):
    """Points earned a minute ago are pending: redeeming them is INSUFFICIENT_POINTS."""
    number, _ = await issue_card(client)
    await buy(client, number, "1000.00")

    response = await store_post(client, "purchases", receipt(number, pointsToRedeem=10))

    assert response.status_code == 409
    assert response.json()["error"] == "INSUFFICIENT_POINTS"
    assert await Purchase.all().count() == 1


async def test_available_points_are_redeemed_from_the_soonest_expiring_lot(client):
    """Two available lots: a redemption empties the older one first."""
    number, _ = await issue_card(client)
    now = datetime.now(UTC)
    await buy(client, number, "100.00", occurredAt=(now - timedelta(days=40)).isoformat())
    await buy(client, number, "200.00", occurredAt=(now - timedelta(days=20)).isoformat())

    answer = await buy(client, number, "5.00", pointsToRedeem=15)

    assert answer["pointsRedeemed"] == 15
    lots = await PointsLot.all().order_by("expires_at")
    assert [lot.remaining for lot in lots] == [0, 15]
    redeem = await PointsEntry.get(kind=EntryKind.REDEEM)
    assert redeem.amount == -15


async def test_an_occurred_at_beyond_the_clock_skew_is_refused(client):
    """A till clock an hour ahead is INVALID_INPUT; a few seconds ahead is fine."""
    number, _ = await issue_card(client)
    now = datetime.now(UTC)

    far = await store_post(
        client, "purchases", receipt(number, occurredAt=(now + timedelta(hours=1)).isoformat())
    )
    near = await store_post(
        client, "purchases", receipt(number, occurredAt=(now + timedelta(seconds=5)).isoformat())
    )

    assert far.status_code == 422
    assert far.json()["details"][0]["field"] == "occurredAt"
    assert near.status_code == 201


@pytest.mark.parametrize(
    "change",
    [
        {"total": "0"},
        {"total": "-5.00"},
        {"total": 12.5},
        {"total": "12.345"},
        {"total": "lots"},
        {"pointsToRedeem": -1},
        {"pointsToRedeem": "3"},
        {"occurredAt": "2026-01-01T10:00:00"},
        {"receiptId": ""},
        {"cardNumber": "4006381333932"},
        {"total": "NaN"},
        {"total": "Infinity"},
        {"total": "1E+20"},
        {"total": "-0"},
        {"total": "1_000"},
        {"total": "1e3"},
        {"total": " 12.50"},
        {"total": 10**20},
        {"receiptId": "R\x00-1"},
        {"storeId": "store\x00"},
        {"receiptId": "x" * 65},
        {"pointsToRedeem": 2**31},
        {"pointsToRedeem": 10**30},
        {"occurredAt": "0001-01-01T00:00:00+05:00"},
    ],
)
async def test_a_malformed_purchase_is_422_with_details(client, change):
    """Non-positive, non-finite, float, huge, over-precise or not plainly written totals, counts
    beyond a points column, naive times or times with no UTC equivalent, NUL bytes (PostgreSQL
    refuses them in text), over-long ids and bad numbers: 422, never a server error."""
    number, _ = await issue_card(client)

    response = await store_post(client, "purchases", {**receipt(number), **change})

    assert response.status_code == 422
    assert response.json()["error"] == "INVALID_INPUT"
    assert response.json()["details"]


async def test_a_purchase_moves_the_cards_last_used_time(client):
    """lastUsedAt follows the latest purchase."""
    number, _ = await issue_card(client)
    when = datetime.now(UTC) - timedelta(days=1)

    await buy(client, number, occurredAt=when.isoformat())

    card = await Card.get(number=number)
    assert card.last_used_at == when


@pytest.mark.parametrize("total", ["NaN", "Infinity", "1e400"])
async def test_a_bare_json_number_that_is_no_decimal_is_422(client, total):
    """JSON extensions such as a bare NaN, and numbers beyond a float, are refused as input."""
    number, _ = await issue_card(client)
    body = f'{{"receiptId": "R-x", "cardNumber": "{number}", "storeId": "s", "total": {total}}}'

    response = await client.post(
        "/internal/v1/purchases", content=body.encode(), headers=STORE_HEADERS
    )

    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "total"
    assert await Purchase.all().count() == 0


async def test_a_receipt_sent_again_without_occurred_at_is_a_replay(client):
    """The till's retry omits occurredAt like the first send did: the same answer, once."""
    number, _ = await issue_card(client)
    body = receipt(number, "1234.50")
    first = await store_post(client, "purchases", body)

    again = await store_post(client, "purchases", {**body, "total": "1234.5"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert await Purchase.all().count() == 1


async def test_the_same_occurred_at_in_another_time_zone_is_a_replay(client):
    """10:00+03:00 and 07:00Z are the same moment, so the same receipt body."""
    number, _ = await issue_card(client)
    body = receipt(number, occurredAt="2026-01-01T10:00:00+03:00")
    await store_post(client, "purchases", body)

    again = await store_post(client, "purchases", {**body, "occurredAt": "2026-01-01T07:00:00Z"})

    assert again.status_code == 200
