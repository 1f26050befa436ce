"""Linking cards: number and code, limits, enrolment, throttling, and the points a card brings."""

from __future__ import annotations

import pytest

from bff.identity.models import ProgramStatus
from bff.loyalty.models import PointsEntry, PointsLot, Purchase
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.loyalty.store import buy, issue_card

LINK_CARD = """
mutation Link($input: LinkCardInput!) {
  linkCard(input: $input) {
    card { id number label status linkedAt lastUsedAt }
    userErrors { field code message }
  }
}
"""

MY_CARDS = "query { me { cards { id number label status } points { available pending } } }"


async def link(client, token, number, code, label=None):
    variables = {"input": {"number": number, "verificationCode": code, "label": label}}
    body = await gql(client, LINK_CARD, variables, token=token)
    return body["data"]["linkCard"]


async def test_a_member_links_a_card_with_its_number_and_code(client):
    """The right number and code link the card; it shows in me.cards."""
    number, code = await issue_card(client)
    _, token = await signed_in_member()

    result = await link(client, token, number, code, label="Main store")

    assert result["userErrors"] == []
    assert result["card"]["number"] == number
    assert result["card"]["label"] == "Main store"
    assert result["card"]["status"] == "ACTIVE"
    cards = (await gql(client, MY_CARDS, token=token))["data"]["me"]["cards"]
    assert [card["id"] for card in cards] == [result["card"]["id"]]


async def test_a_number_typed_with_spaces_and_dashes_is_accepted(client):
    """ "4006 3813-33931" is the card 4006381333931."""
    await issue_card(client, number="4006381333931", verificationCode="123456")
    _, token = await signed_in_member()

    result = await link(client, token, "4006 3813-33931", "123456")

    assert result["card"]["number"] == "4006381333931"


async def test_a_bad_check_digit_is_card_invalid_number(client):
    """The last digit must be the GS1 check digit."""
    _, token = await signed_in_member()

    result = await link(client, token, "4006381333932", "123456")

    assert result["card"] is None
    assert result["userErrors"][0]["code"] == "CARD_INVALID_NUMBER"
    assert result["userErrors"][0]["field"] == ["input", "number"]


async def test_an_unknown_number_and_a_wrong_code_are_the_same_error(client):
    """Both are CARD_NOT_FOUND with the same message, so numbers cannot be probed."""
    await issue_card(client, number="4006381333931", verificationCode="123456")
    _, token = await signed_in_member()

    wrong_code = await link(client, token, "4006381333931", "654321")
    unknown = await link(client, token, "5901234123457", "123456")

    assert wrong_code["userErrors"] == unknown["userErrors"]
    assert wrong_code["userErrors"][0]["code"] == "CARD_NOT_FOUND"


async def test_a_card_linked_to_another_member_is_card_already_linked(client):
    """Knowing the code is not enough to take a linked card."""
    number, code = await issue_card(client)
    _, first = await signed_in_member()
    _, second = await signed_in_member()
    await link(client, first, number, code)

    result = await link(client, second, number, code)

    assert result["userErrors"][0]["code"] == "CARD_ALREADY_LINKED"


async def test_a_member_links_at_most_five_cards(client):
    """The sixth card is CARD_LIMIT_REACHED."""
    _, token = await signed_in_member()
    for _ in range(5):
        number, code = await issue_card(client)
        assert (await link(client, token, number, code))["userErrors"] == []
    number, code = await issue_card(client)

    result = await link(client, token, number, code)

    assert result["userErrors"][0]["code"] == "CARD_LIMIT_REACHED"


async def test_an_opted_out_member_cannot_link_a_card(client):
    """Linking needs ENROLLED: NOT_ENROLLED otherwise."""
    number, code = await issue_card(client)
    _, token = await signed_in_member(program_status=ProgramStatus.OPTED_OUT)

    result = await link(client, token, number, code)

    assert result["userErrors"][0]["code"] == "NOT_ENROLLED"


async def test_wrong_codes_are_throttled_per_card(client, settings):
    """Guessing one card's code from many accounts is locked after the limit."""
    number, code = await issue_card(client)
    for _ in range(settings.throttle_max_failures):
        _, token = await signed_in_member()
        await link(client, token, number, "000000" if code != "000000" else "111111")
    _, token = await signed_in_member()

    result = await link(client, token, number, code)

    assert result["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_wrong_codes_are_throttled_per_member(client, settings):
    """One member guessing codes of many cards is locked after the limit."""
    _, token = await signed_in_member()
    for _ in range(settings.throttle_max_failures):
        await link(client, token, "4006381333931", "000000")
    number, code = await issue_card(client)

    result = await link(client, token, number, code)

    assert result["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_attempts_packed_into_one_request_all_count(client, settings):
    """Aliases do not multiply the guesses: the attempts beyond the limit are refused."""
    _, token = await signed_in_member()
    aliases = " ".join(
        f'a{i}: linkCard(input: {{number: "4006381333931", verificationCode: "{i:06d}"}}) '
        "{ userErrors { code } }"
        for i in range(settings.throttle_max_failures + 2)
    )

    body = await gql(client, f"mutation {{ {aliases} }}", token=token)

    codes = [result["userErrors"][0]["code"] for result in body["data"].values()]
    assert codes.count("TOO_MANY_ATTEMPTS") >= 2
    assert codes.count("CARD_NOT_FOUND") <= settings.throttle_max_failures


async def test_linking_claims_the_points_and_purchases_of_the_unlinked_card(client):
    """What the card earned while unlinked becomes the member's; the amounts stay."""
    number, code = await issue_card(client)
    await buy(client, number, "500.00")
    await buy(client, number, "120.00")
    member, token = await signed_in_member()

    await link(client, token, number, code)

    assert await Purchase.filter(member_id=member.id).count() == 2
    assert await PointsEntry.filter(member_id=member.id).count() == 2
    lots = await PointsLot.filter(member_id=member.id).order_by("id")
    assert [lot.amount for lot in lots] == [50, 12]
    me = (await gql(client, MY_CARDS, token=token))["data"]["me"]
    assert me["points"] == {"available": 0, "pending": 62}


async def test_linking_needs_a_session(client):
    """Anonymous linkCard is the top-level UNAUTHENTICATED error."""
    number, code = await issue_card(client)

    body = await gql(client, LINK_CARD, {"input": {"number": number, "verificationCode": code}})

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("label", ["x" * 61, "Main\u202estore", "Main\x07store"])
async def test_a_too_long_or_unprintable_label_is_invalid_input(client, label):
    """Labels are short printable names for the member's own use (no bidi overrides, no
    control characters; a NUL never gets this far: the GraphQL view refuses it)."""
    number, code = await issue_card(client)
    _, token = await signed_in_member()

    result = await link(client, token, number, code, label=label)

    assert result["userErrors"][0]["field"] == ["input", "label"]
    assert result["userErrors"][0]["code"] == "INVALID_INPUT"
