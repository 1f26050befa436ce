"""A digital card, renaming cards, the reason a card was deactivated, and what a till sees when it
scans a card (GET /internal/v1/cards/{number})."""

from __future__ import annotations

from bff.identity.models import ProgramStatus
from bff.loyalty.models import Card, CardKind
from bff.loyalty.numbers import ISSUER_PREFIX, is_valid_number
from tests.conftest import INTERNAL_API_KEY
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.loyalty.store import STORE_HEADERS, buy
from tests.loyalty.test_card_lifecycle import ACTIVATE, linked_card

REQUEST_DIGITAL_CARD = """
mutation { requestDigitalCard { card { id number barcode kind status label } userErrors { code } } }
"""
RENAME = """
mutation R($input: RenameCardInput!) {
  renameCard(input: $input) { card { id label } userErrors { field code } }
}
"""
DEACTIVATE_WITH_REASON = """
mutation Off($input: CardIdInput!) {
  deactivateCard(input: $input) { card { id status } userErrors { code } }
}
"""


async def scan(client, number, *, method="GET", headers=STORE_HEADERS):
    return await client.request(method, f"/internal/v1/cards/{number}", headers=headers)


async def test_a_digital_card_is_issued_linked_and_active_with_its_barcode(client):
    """A DIGITAL card in the program's range, linked at once; the barcode is its EAN-13."""
    member, token = await signed_in_member()

    body = await gql(client, REQUEST_DIGITAL_CARD, token=token)

    result = body["data"]["requestDigitalCard"]
    card = result["card"]
    assert result["userErrors"] == []
    assert (card["kind"], card["status"]) == ("DIGITAL", "ACTIVE")
    assert card["barcode"] == card["number"]
    assert is_valid_number(card["number"])
    assert card["number"].startswith(ISSUER_PREFIX)
    stored = await Card.get(number=card["number"])
    assert (stored.member_id, stored.kind) == (member.id, CardKind.DIGITAL)


async def test_a_digital_card_counts_towards_the_limit_and_a_refusal_leaves_no_card(
    client, settings
):
    """Five cards linked: CARD_LIMIT_REACHED, and no sixth card is issued."""
    _, token = await signed_in_member()
    for _ in range(settings.max_cards_per_member):
        answer = await gql(client, REQUEST_DIGITAL_CARD, token=token)
        assert answer["data"]["requestDigitalCard"]["userErrors"] == []
    issued = await Card.all().count()

    body = await gql(client, REQUEST_DIGITAL_CARD, token=token)

    assert body["data"]["requestDigitalCard"]["userErrors"] == [{"code": "CARD_LIMIT_REACHED"}]
    assert await Card.all().count() == issued


async def test_an_opted_out_member_gets_no_digital_card(client):
    """NOT_ENROLLED, as for linking."""
    _, token = await signed_in_member(program_status=ProgramStatus.OPTED_OUT)

    body = await gql(client, REQUEST_DIGITAL_CARD, token=token)

    assert body["data"]["requestDigitalCard"]["userErrors"] == [{"code": "NOT_ENROLLED"}]


async def test_rename_card_sets_and_clears_the_label_of_own_cards_only(client):
    """A label, then none; another member's card is NOT_FOUND."""
    _, token = await signed_in_member()
    _, stranger = await signed_in_member()
    _, card_id = await linked_card(client, token)

    named = await gql(client, RENAME, {"input": {"cardId": card_id, "label": " Van "}}, token=token)
    cleared = await gql(client, RENAME, {"input": {"cardId": card_id, "label": None}}, token=token)
    foreign = await gql(
        client, RENAME, {"input": {"cardId": card_id, "label": "x"}}, token=stranger
    )

    assert named["data"]["renameCard"]["card"]["label"] == "Van"
    assert cleared["data"]["renameCard"]["card"]["label"] is None
    assert foreign["data"]["renameCard"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_a_till_scanning_a_card_sees_its_status_reason_kind_and_the_members_tier(client):
    """Deactivated as LOST: the till sees it; activated again, the reason is gone; the tier and
    program status of the linked member come along."""
    _, token = await signed_in_member()
    number, card_id = await linked_card(client, token)
    await buy(client, number, "150000.00")

    await gql(
        client,
        DEACTIVATE_WITH_REASON,
        {"input": {"cardId": card_id, "reason": "LOST"}},
        token=token,
    )
    lost = await scan(client, number)
    await gql(client, ACTIVATE, {"input": {"cardId": card_id}}, token=token)
    found = await scan(client, number)

    assert lost.status_code == 200
    assert lost.json() == {
        "number": number,
        "status": "INACTIVE",
        "kind": "PHYSICAL",
        "deactivationReason": "LOST",
        "programStatus": "ENROLLED",
        "tier": "SILVER",
    }
    assert (found.json()["status"], found.json()["deactivationReason"]) == ("ACTIVE", None)


CARD_REASON = """
query Reason($id: ID!) { node(id: $id) { ... on Card { status deactivationReason } } }
"""


async def test_the_member_sees_why_a_card_was_deactivated_until_it_is_activated_again(client):
    """The reason given when blocking stays on the card (the portal shows it); unblocking clears
    it, and blocking without one leaves it null."""
    _, token = await signed_in_member()
    _, card_id = await linked_card(client, token)

    await gql(
        client,
        DEACTIVATE_WITH_REASON,
        {"input": {"cardId": card_id, "reason": "STOLEN"}},
        token=token,
    )
    stolen = await gql(client, CARD_REASON, {"id": card_id}, token=token)
    await gql(client, ACTIVATE, {"input": {"cardId": card_id}}, token=token)
    active = await gql(client, CARD_REASON, {"id": card_id}, token=token)
    await gql(client, DEACTIVATE_WITH_REASON, {"input": {"cardId": card_id}}, token=token)
    unsaid = await gql(client, CARD_REASON, {"id": card_id}, token=token)

    assert stolen["data"]["node"] == {"status": "INACTIVE", "deactivationReason": "STOLEN"}
    assert active["data"]["node"] == {"status": "ACTIVE", "deactivationReason": None}
    assert unsaid["data"]["node"] == {"status": "INACTIVE", "deactivationReason": None}


async def test_scanning_an_unlinked_unknown_or_malformed_card(client):
    """Unlinked: no member fields; unknown: 404; malformed: 422; POST: 405; no key: 401."""
    issued = await client.post("/internal/v1/cards", json={}, headers=STORE_HEADERS)
    number = issued.json()["number"]

    unlinked = await scan(client, number)
    unknown = await scan(client, "2900000000025")
    malformed = await scan(client, "123")
    posted = await scan(client, number, method="POST")
    anonymous = await scan(client, number, headers={"X-Api-Key": INTERNAL_API_KEY + "x"})

    assert unlinked.json() == {
        "number": number,
        "status": "ACTIVE",
        "kind": "PHYSICAL",
        "deactivationReason": None,
    }
    assert (unknown.status_code, unknown.json()["error"]) == (404, "CARD_NOT_FOUND")
    assert malformed.status_code == 422
    assert posted.status_code == 405
    assert anonymous.status_code == 401
