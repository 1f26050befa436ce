"""Leaving and joining the loyalty program."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bff.identity.models import ProgramStatus
from bff.loyalty.models import EntryKind, PointsEntry, PointsLot, Purchase
from bff.offers.models import OfferActivation
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.loyalty.store import buy, issue_card, receipt, store_post
from tests.loyalty.test_card_lifecycle import UNLINK
from tests.loyalty.test_linking import link
from tests.offers.test_offers import create_offer

PASSWORD = "correct horse battery staple 42"
OPT_OUT = """
mutation Out($input: OptOutInput!) {
  optOut(input: $input) {
    member { programStatus points { available pending } }
    userErrors { field code message }
  }
}
"""
JOIN = """
mutation Join($input: JoinProgramInput!) {
  joinProgram(input: $input) {
    member { programStatus points { available pending lifetimeEarned } }
    userErrors { field code }
  }
}
"""
CLOSE = """
mutation Close($input: CloseAccountInput!) {
  closeAccount(input: $input) { ok userErrors { code } }
}
"""
POINTS = "query { me { points { available pending } } }"
HISTORY_AND_TRANSACTIONS = """
query {
  me {
    points { available pending }
    transactions { edges { node { receiptId } } }
    pointsHistory { edges { node { amount } } }
  }
}
"""
ACTIVATE_OFFER = """
mutation A($input: ActivateOfferInput!) {
  activateOffer(input: $input) { offer { id activated } userErrors { code } }
}
"""


async def opt_out(client, token, password=PASSWORD):
    body = await gql(client, OPT_OUT, {"input": {"password": password}}, token=token)
    return body["data"]["optOut"]


async def test_opt_out_is_refused_while_cards_are_linked_and_names_them(client):
    """CARDS_STILL_LINKED names each linked card; nothing is forfeited."""
    member, token = await signed_in_member(password=PASSWORD)
    number, code = await issue_card(client)
    await link(client, token, number, code, label="Warehouse")
    await buy(client, number, "100.00")

    result = await opt_out(client, token)

    error = result["userErrors"][0]
    assert error["code"] == "CARDS_STILL_LINKED"
    assert "Warehouse" in error["message"]
    assert number in error["message"]
    assert not await PointsEntry.filter(member_id=member.id, kind=EntryKind.FORFEIT).exists()


async def test_opt_out_needs_the_password(client):
    """A wrong password is INVALID_CREDENTIALS and the member stays enrolled."""
    _, token = await signed_in_member(password=PASSWORD)

    result = await opt_out(client, token, password="not the password at all")

    assert result["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert result["userErrors"][0]["field"] == ["input", "password"]


async def test_opting_out_forfeits_points_lapses_exclusive_offers_and_rejoining_starts_at_zero(
    client,
):
    """FORFEIT entry for everything left, exclusive activations lapse, OPTED_OUT; join again."""
    member, token = await signed_in_member(password=PASSWORD)
    number, code = await issue_card(client)
    card_id = (await link(client, token, number, code))["card"]["id"]
    earlier = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    await buy(client, number, "500.00", occurredAt=earlier)
    await buy(client, number, "100.00")
    exclusive = await create_offer(client, "VIP", exclusive=True)
    public = await create_offer(client, "All")
    for offer_id in (exclusive, public):
        await gql(client, ACTIVATE_OFFER, {"input": {"offerId": offer_id}}, token=token)
    await gql(client, UNLINK, {"input": {"cardId": card_id}}, token=token)

    result = await opt_out(client, token)
    joined = await gql(client, JOIN, {"input": {"acceptRules": True}}, token=token)

    assert result["userErrors"] == []
    assert result["member"]["programStatus"] == "OPTED_OUT"
    assert result["member"]["points"] == {"available": 0, "pending": 0}
    forfeit = await PointsEntry.get(member_id=member.id, kind=EntryKind.FORFEIT)
    assert forfeit.amount == -60
    lapsed = await OfferActivation.filter(member_id=member.id, lapsed_at__isnull=False).count()
    assert lapsed == 1
    rejoined = joined["data"]["joinProgram"]["member"]
    assert rejoined["programStatus"] == "ENROLLED"
    assert rejoined["points"]["available"] == rejoined["points"]["pending"] == 0


async def test_an_opted_out_member_cannot_opt_out_again(client):
    """NOT_ENROLLED: there is nothing to leave."""
    _, token = await signed_in_member(password=PASSWORD)
    await opt_out(client, token)

    result = await opt_out(client, token)

    assert result["userErrors"][0]["code"] == "NOT_ENROLLED"


async def test_joining_while_enrolled_is_already_enrolled(client):
    """joinProgram for an enrolled member changes nothing."""
    _, token = await signed_in_member()

    body = await gql(client, JOIN, {"input": {"acceptRules": True}}, token=token)

    assert body["data"]["joinProgram"]["userErrors"][0]["code"] == "ALREADY_ENROLLED"


async def test_joining_needs_the_rules_accepted(client):
    """acceptRules false is refused on that field."""
    _, token = await signed_in_member(password=PASSWORD)
    await opt_out(client, token)

    body = await gql(client, JOIN, {"input": {"acceptRules": False}}, token=token)

    error = body["data"]["joinProgram"]["userErrors"][0]
    assert error["field"] == ["input", "acceptRules"]


async def test_a_lapsed_exclusive_offer_can_be_activated_again_after_rejoining(client):
    """Back in the program, the member may activate the exclusive offer once more."""
    _, token = await signed_in_member(password=PASSWORD)
    variables = {"input": {"offerId": await create_offer(client, "VIP", exclusive=True)}}
    await gql(client, ACTIVATE_OFFER, variables, token=token)
    await opt_out(client, token)
    while_out = await gql(client, ACTIVATE_OFFER, variables, token=token)
    await gql(client, JOIN, {"input": {"acceptRules": True}}, token=token)

    again = await gql(client, ACTIVATE_OFFER, variables, token=token)

    assert while_out["data"]["activateOffer"]["userErrors"][0]["code"] == "OFFER_NOT_AVAILABLE"
    assert again["data"]["activateOffer"]["offer"]["activated"] is True


async def test_the_points_of_a_closed_account_go_to_no_one_who_holds_or_links_its_card(client):
    """Closing forfeits what is left (per card): the card redeems nothing at the till, and a
    member who links it later starts from zero, their entries still adding up to their lots."""
    _, token = await signed_in_member(password=PASSWORD)
    number, code = await issue_card(client)
    await link(client, token, number, code)
    await buy(
        client, number, "500.00", occurredAt=(datetime.now(UTC) - timedelta(days=30)).isoformat()
    )
    await buy(client, number, "300.00")
    await gql(client, CLOSE, {"input": {"password": PASSWORD}}, token=token)
    stranger_member, stranger = await signed_in_member()
    stranger_id = stranger_member.id

    at_the_till = await store_post(client, "purchases", receipt(number, "5.00", pointsToRedeem=1))
    await link(client, stranger, number, code)
    points = await gql(client, POINTS, token=stranger)

    assert at_the_till.json()["error"] == "INSUFFICIENT_POINTS"
    assert points["data"]["me"]["points"] == {"available": 0, "pending": 0}
    forfeit = await PointsEntry.get(kind=EntryKind.FORFEIT)
    assert forfeit.amount == -80
    entries = await PointsEntry.filter(member_id=stranger_id).values_list("amount", flat=True)
    lots = await PointsLot.filter(member_id=stranger_id).values_list("remaining", flat=True)
    assert sum(entries) == sum(lots) == 0


@pytest.mark.parametrize("unlinked_before_closing", [False, True])
async def test_a_closed_accounts_purchases_stay_detached_when_its_card_is_linked_again(
    client, unlinked_before_closing
):
    """The history of a closed account is nobody's: a member who links one of its cards later,
    linked or already unlinked when it closed, sees none of its purchases or entries."""
    _, token = await signed_in_member(password=PASSWORD)
    number, code = await issue_card(client)
    card_id = (await link(client, token, number, code))["card"]["id"]
    await buy(client, number, "500.00")
    if unlinked_before_closing:
        await gql(client, UNLINK, {"input": {"cardId": card_id}}, token=token)
    await gql(client, CLOSE, {"input": {"password": PASSWORD}}, token=token)
    _, stranger = await signed_in_member()
    await link(client, stranger, number, code)

    own = await buy(client, number, "70.00")
    seen = await gql(client, HISTORY_AND_TRANSACTIONS, token=stranger)

    me = seen["data"]["me"]
    assert [edge["node"]["receiptId"] for edge in me["transactions"]["edges"]] == [own["receiptId"]]
    assert [edge["node"]["amount"] for edge in me["pointsHistory"]["edges"]] == [7]
    assert me["points"] == {"available": 0, "pending": 7}
    assert await Purchase.filter(member_id__isnull=True, detached=True).count() == 1


async def test_exclusive_offers_activated_while_opting_out_never_stay_active(client):
    """Activations racing an opt-out take turns with it on the member row: whichever lands,
    the member ends OPTED_OUT with no live activation of an exclusive offer."""
    member, token = await signed_in_member(password=PASSWORD)
    offer_ids = [await create_offer(client, f"VIP {n}", exclusive=True) for n in range(5)]

    await asyncio.gather(
        opt_out(client, token),
        *(
            gql(client, ACTIVATE_OFFER, {"input": {"offerId": offer_id}}, token=token)
            for offer_id in offer_ids
        ),
    )

    await member.refresh_from_db()
    assert member.program_status is ProgramStatus.OPTED_OUT
    live = OfferActivation.filter(member_id=member.id, lapsed_at__isnull=True)
    assert await live.count() == 0
