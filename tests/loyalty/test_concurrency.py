"""Tills at the same moment: no balance goes negative, no receipt is credited twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bff.loyalty.models import EntryKind, PointsEntry, PointsLot, Purchase
from tests.factories import signed_in_member
from tests.loyalty.store import buy, issue_card, receipt, store_post
from tests.loyalty.test_linking import link

TILLS = 20


@pytest.mark.postgres_only
async def test_twenty_tills_redeeming_from_one_member_at_once_never_overdraw(client):
    """100 available points, 20 parallel redemptions of 10 on the member's two cards: exactly
    10 succeed, the rest are INSUFFICIENT_POINTS, and the ledger ends at zero."""
    member, token = await signed_in_member()
    numbers = []
    for _ in range(2):
        number, code = await issue_card(client)
        await link(client, token, number, code)
        numbers.append(number)
    month_ago = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    await buy(client, numbers[0], "600.00", occurredAt=month_ago)
    await buy(client, numbers[1], "400.00", occurredAt=month_ago)

    responses = await asyncio.gather(
        *(
            store_post(client, "purchases", receipt(numbers[till % 2], "5.00", pointsToRedeem=10))
            for till in range(TILLS)
        )
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 10 + [409] * 10
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {"INSUFFICIENT_POINTS"}
    entries = await PointsEntry.filter(member_id=member.id).values_list("amount", flat=True)
    assert sum(entries) == 0
    assert await PointsLot.filter(remaining__lt=0).count() == 0
    assert await PointsEntry.filter(kind=EntryKind.REDEEM).count() == 10


async def test_parallel_duplicate_receipts_are_credited_once(client):
    """The same receipt sent by 20 retries at once: one 201, the rest 200 with the same answer."""
    number, _ = await issue_card(client)
    body = receipt(number, "990.00")

    responses = await asyncio.gather(*(store_post(client, "purchases", body) for _ in range(TILLS)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (TILLS - 1) + [201]
    assert {tuple(r.json().items()) for r in responses} == {
        (("receiptId", body["receiptId"]), ("pointsEarned", 99), ("pointsRedeemed", 0))
    }
    assert await Purchase.all().count() == 1
    assert await PointsEntry.all().count() == 1


async def test_parallel_conflicting_bodies_for_one_receipt_record_one_of_them(client):
    """Same receipt id with different totals at once: one is recorded, the others conflict."""
    number, _ = await issue_card(client)
    body = receipt(number, "100.00")

    responses = await asyncio.gather(
        *(
            store_post(client, "purchases", {**body, "total": f"{100 + till}.00"})
            for till in range(TILLS)
        )
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (TILLS - 1)
    assert await Purchase.all().count() == 1
