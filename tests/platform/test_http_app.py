"""The HTTP app: health, readiness, request ids, security headers."""

from __future__ import annotations

from tests.factories import signed_in_member
from tests.graphql_client import gql

ME = "query { me { id email } }"


async def test_healthz_answers_while_the_process_lives(client):
    """GET /healthz is 200 without touching the database."""

    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_the_database_up(client):
    """GET /readyz runs a query and says the database is up."""

    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["database"] == "up"


async def test_every_response_carries_a_request_id_and_echoes_a_given_one(client):
    """A request id is made when absent and kept when the client sends a sane one."""

    made = await client.get("/healthz")
    kept = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})

    assert len(made.headers["x-request-id"]) == 32
    assert kept.headers["x-request-id"] == "abc-123"


async def test_responses_carry_security_headers(client):
    """nosniff, frame denial and a referrer policy are on every response."""

    response = await client.get("/healthz")

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


async def test_me_is_null_without_a_session(client):
    """An anonymous `me` is null, not an error."""

    body = await gql(client, ME)

    assert body == {"data": {"me": None}}


async def test_me_answers_for_a_bearer_session(client):
    """A valid bearer token makes `me` the member it belongs to."""
    member, token = await signed_in_member(email="me@example.com")

    body = await gql(client, ME, token=token)

    assert body["data"]["me"]["email"] == "me@example.com"
    assert member.id
