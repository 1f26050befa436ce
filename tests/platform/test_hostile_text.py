"""Unpaired surrogates and NUL characters are refused where a request's JSON is decoded.

JSON carries `"\\ud800"` (not text: UTF-8 cannot encode it) and `"\\u0000"` (PostgreSQL refuses it
in text). No field of the API takes either, so /graphql answers 400 before anything runs, and
the internal API 422, whichever domain the string was meant for.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from bff.identity.models import Member
from bff.loyalty.models import Card
from bff.offers.models import Offer
from tests.conftest import INTERNAL_API_KEY
from tests.factories import signed_in_member

UPDATE_PROFILE = """
mutation Update($text: String!) {
  updateProfile(input: {firstName: $text}) { member { firstName } userErrors { field code } }
}
"""
LINK_CARD = """
mutation Link($text: String!) {
  linkCard(input: {number: "2900000000018", verificationCode: "246810", label: $text}) {
    card { id } userErrors { field code }
  }
}
"""
ACTIVATE_OFFER = """
mutation Activate($text: ID!) {
  activateOffer(input: {offerId: $text}) { offer { id } userErrors { field code } }
}
"""
INLINE_NUL = """
mutation { updateProfile(input: {firstName: "Anna\\u0000"}) { userErrors { field code } } }
"""
INLINE_NUL_BRACED = """
mutation { updateProfile(input: {firstName: "Anna\\u{0}"}) { userErrors { field code } } }
"""
ESCAPED_BACKSLASH = """
mutation { updateProfile(input: {firstName: "Anna\\\\u0000"}) { userErrors { field code } } }
"""
ME = "query Me { me { firstName } }"
SURROGATE = "\ud800"
NUL = "\x00"
PROBLEMS = {SURROGATE: "unpaired UTF-16 surrogate", NUL: "NUL character"}


def escaped_json(value: object) -> str:
    """JSON with every non-ASCII character escaped, as a client may send a lone surrogate."""
    return json.dumps(value, ensure_ascii=True)


async def post(client, body, *, token=None, accept=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if accept:
        headers["Accept"] = accept
    return await client.post("/graphql", content=escaped_json(body), headers=headers)


@pytest.mark.parametrize("bad", [SURROGATE, NUL], ids=["unpaired-surrogate", "nul"])
@pytest.mark.parametrize(
    "document",
    [UPDATE_PROFILE, LINK_CARD, ACTIVATE_OFFER],
    ids=["updateProfile.firstName", "linkCard.label", "activateOffer.offerId"],
)
@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_a_variable_with_an_unpaired_surrogate_or_a_nul_is_a_400_before_anything_runs(
    client, document, bad, accept
):
    """Every domain's text input is covered by one check: a 400 naming the problem, no write."""
    member, token = await signed_in_member()

    response = await post(
        client, {"query": document, "variables": {"text": f"An{bad}na"}}, token=token, accept=accept
    )

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(accept)
    [error] = response.json()["errors"]
    assert error["message"].startswith("The GraphQL operation's `variables` contains")
    assert PROBLEMS[bad] in error["message"]
    assert "data" not in response.json()
    assert (await Member.get(id=member.id)).first_name == member.first_name
    assert await Card.all().count() == 0


@pytest.mark.parametrize(
    "document", [INLINE_NUL, INLINE_NUL_BRACED], ids=["fixed-width", "variable-width"]
)
async def test_a_nul_escaped_in_a_string_literal_of_the_document_is_a_400(client, document):
    """`"\\u0000"` and `"\\u{0}"` written in the document itself are refused like a variable."""
    _, token = await signed_in_member()

    response = await post(client, {"query": document}, token=token)

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "The GraphQL operation's `query` contains a NUL character (\\u0000), which no field "
        "accepts."
    )


async def test_an_escaped_backslash_before_u0000_is_ordinary_text(client):
    """`"\\\\u0000"` is a backslash and five characters, not a NUL: it reaches the resolver."""
    _, token = await signed_in_member()

    response = await post(client, {"query": ESCAPED_BACKSLASH}, token=token)

    assert response.status_code == 200
    assert response.json()["data"]["updateProfile"]["userErrors"] == []


@pytest.mark.parametrize(
    ("body", "part"),
    [
        ({"query": f"{ME} # {SURROGATE}"}, "query"),
        ({"query": ME, "operationName": f"Me{SURROGATE}"}, "operationName"),
        ({"query": ME, "variables": {SURROGATE: 1}}, "variables"),
        ({"query": ME, "extensions": {"note": [f"x{NUL}"]}}, "extensions"),
    ],
    ids=["document", "operation-name", "variable-name", "extensions"],
)
async def test_every_part_of_the_request_is_checked(client, body, part):
    """The document's own characters, the operation name, variable names and extensions too."""
    _, token = await signed_in_member()

    response = await post(client, body, token=token)

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith(
        f"The GraphQL operation's `{part}` contains"
    )


async def test_a_batch_is_refused_when_one_of_its_operations_is(client):
    """One bad operation in a batch refuses the request; the good one does not run either."""
    member, token = await signed_in_member()
    batch = [
        {"query": UPDATE_PROFILE, "variables": {"text": "Olga"}},
        {"query": UPDATE_PROFILE, "variables": {"text": SURROGATE}},
    ]

    response = await post(client, batch, token=token)

    assert response.status_code == 400
    assert (await Member.get(id=member.id)).first_name == member.first_name


async def test_get_variables_are_checked_too(client):
    """A query over GET with `variables={"text": "\\ud800"}` is refused the same way."""
    query = "query Offers($text: String) { offers(first: 1, after: $text) { totalCount } }"
    params = urlencode({"query": query, "variables": escaped_json({"text": SURROGATE})})

    response = await client.get(f"/graphql?{params}", headers={"Accept": "application/json"})

    assert response.status_code == 400
    assert "unpaired UTF-16 surrogate" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"title": "Beans", "description": f"Coffee{SURROGATE}", "validFrom": "2026-01-01T00:00Z"},
        {f"title{SURROGATE}": "Beans"},
    ],
    ids=["value", "key"],
)
async def test_the_internal_api_refuses_an_unpaired_surrogate_as_invalid_input(client, body):
    """A body with an unpaired surrogate anywhere is 422 INVALID_INPUT, and no offer is made."""

    response = await client.post(
        "/internal/v1/offers",
        content=escaped_json(body),
        headers={"X-Api-Key": INTERNAL_API_KEY, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json() == {
        "error": "INVALID_INPUT",
        "details": [
            {
                "field": None,
                "code": "INVALID_TEXT",
                "message": "The body contains an unpaired UTF-16 surrogate (such as \\ud800), "
                "which is not text.",
            }
        ],
    }
    assert await Offer.all().count() == 0


async def test_the_internal_api_still_names_the_field_of_a_nul(client):
    """NUL in the internal API stays a per-field detail of the body's schema (422)."""
    body = {
        "title": "Beans",
        "description": "Coffee\x00",
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2026-02-01T00:00:00Z",
    }

    response = await client.post(
        "/internal/v1/offers",
        content=escaped_json(body),
        headers={"X-Api-Key": INTERNAL_API_KEY, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    [detail] = response.json()["details"]
    assert detail["field"] == "description"
    assert "NUL" in detail["message"]
