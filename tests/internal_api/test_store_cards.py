"""POST /internal/v1/cards: stores issue cards, with generated or given number and code."""

from __future__ import annotations

import pytest

from bff.internal_api.routes import api_key_is_valid
from bff.loyalty.models import Card
from bff.loyalty.numbers import is_valid_number
from tests.factories import signed_in_member
from tests.loyalty.store import STORE_HEADERS, store_post


async def test_a_card_without_number_gets_a_valid_generated_number_and_code(client):
    """Absent number and code are generated: 13 digits with a GS1 check digit, 6-digit code."""

    response = await store_post(client, "cards", {})

    assert response.status_code == 201
    body = response.json()
    assert is_valid_number(body["number"])
    assert len(body["verificationCode"]) == 6
    assert body["verificationCode"].isdigit()


async def test_the_verification_code_is_stored_only_as_a_hash(client):
    """The card row keeps a keyed hash, never the printed code."""

    response = await store_post(client, "cards", {"verificationCode": "123456"})

    card = await Card.get(number=response.json()["number"])
    assert "123456" not in card.code_hash
    assert len(card.code_hash) == 64


async def test_a_given_number_and_code_are_kept(client):
    """The store may print its own number (with dashes) and code."""

    response = await store_post(
        client, "cards", {"number": "4006381-333931", "verificationCode": "000042"}
    )

    assert response.status_code == 201
    assert response.json() == {"number": "4006381333931", "verificationCode": "000042"}


async def test_issuing_an_existing_number_is_card_exists(client):
    """The number is unique: the second issue is 409 CARD_EXISTS."""
    await store_post(client, "cards", {"number": "4006381333931"})

    response = await store_post(client, "cards", {"number": "4006381333931"})

    assert response.status_code == 409
    assert response.json()["error"] == "CARD_EXISTS"


@pytest.mark.parametrize(
    "body",
    [
        {"number": "4006381333932"},
        {"number": "12345"},
        {"verificationCode": "12345"},
        {"verificationCode": 123456},
        {"unexpected": True},
    ],
)
async def test_a_malformed_card_body_is_422_with_details(client, body):
    """Bad check digit, wrong lengths, wrong types and unknown fields are INVALID_INPUT."""

    response = await store_post(client, "cards", body)

    assert response.status_code == 422
    assert response.json()["error"] == "INVALID_INPUT"
    assert response.json()["details"]


async def test_a_body_that_is_not_json_is_422(client):
    """Garbage instead of JSON is INVALID_INPUT, not a server error."""

    response = await client.post("/internal/v1/cards", content=b"{nope", headers=STORE_HEADERS)

    assert response.status_code == 422
    assert response.json()["error"] == "INVALID_INPUT"


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong-key"}, {"X-Api-Key": ""}])
async def test_the_internal_api_needs_a_valid_api_key(client, headers):
    """A missing or wrong X-Api-Key is 401 and nothing is created."""

    response = await client.post("/internal/v1/cards", json={}, headers=headers)

    assert response.status_code == 401
    assert await Card.all().count() == 0


async def test_a_member_session_does_not_open_the_internal_api(client):
    """A member's bearer token is no API key."""
    _, token = await signed_in_member()

    response = await client.post(
        "/internal/v1/cards", json={}, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401


def test_every_configured_key_is_accepted():
    """Keys rotate: each key in INTERNAL_API_KEYS opens the API."""
    keys = ["old-key", "new-key"]

    results = [api_key_is_valid(key, keys) for key in ("old-key", "new-key", "other", None)]

    assert results == [True, True, False, False]


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/internal/v1/cards", 405, "METHOD_NOT_ALLOWED"),
        ("POST", "/internal/v1/nothing-here", 404, "NOT_FOUND"),
    ],
)
async def test_refusals_of_the_internal_api_are_json(client, method, path, status, error):
    """A wrong method or an unknown path answers JSON like every other error here."""

    response = await client.request(method, path, headers=STORE_HEADERS)

    assert response.status_code == status
    assert response.json()["error"] == error


async def test_unknown_paths_need_the_api_key_too(client):
    """Without a key, even the list of endpoints is not disclosed: 401."""

    response = await client.post("/internal/v1/nothing-here")

    assert response.status_code == 401
