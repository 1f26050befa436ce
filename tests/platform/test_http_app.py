"""The HTTP app: health, readiness, request ids, security headers, CORS."""

from __future__ import annotations

import gc

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


async def test_a_preflight_from_an_allowed_origin_may_send_credentials(client):
    """The SPA's origin (CORS_ORIGINS) gets its preflight answered, credentials included."""

    response = await client.options(
        "/graphql",
        headers={
            "Origin": "http://web.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://web.example"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]


async def test_a_preflight_from_another_origin_is_refused(client):
    """Any origin not in CORS_ORIGINS is refused and gets no CORS grant."""

    response = await client.options(
        "/graphql",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_a_simple_request_from_an_allowed_origin_exposes_the_request_id(client):
    """The SPA can read X-Request-ID from responses to report it."""

    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "http://web.example"}
    )

    assert response.headers["access-control-allow-origin"] == "http://web.example"
    assert response.headers["access-control-expose-headers"] == "X-Request-ID"


async def test_hsts_is_sent_in_production_only(client, client_with):
    """Strict-Transport-Security pins HTTPS in production; development stays on plain HTTP."""
    production = await client_with(bff_env="production")

    in_development = await client.get("/healthz")
    in_production = await production.get("/healthz")

    assert "strict-transport-security" not in in_development.headers
    assert in_production.headers["strict-transport-security"] == (
        "max-age=63072000; includeSubDomains"
    )


async def test_graphql_responses_carry_the_request_id_too(client):
    """Refusals and results alike echo the request id."""

    ok = await client.post("/graphql", json={"query": "{ __typename }"})
    refused = await client.post("/graphql", content=b"{", headers={"X-Request-ID": "bad-1"})

    assert len(ok.headers["x-request-id"]) == 32
    assert refused.headers["x-request-id"] == "bad-1"


async def test_the_objects_built_at_start_up_are_left_out_of_full_collections_while_serving(app):
    """The schema, plans and models (hundreds of thousands of objects) are frozen: a full
    collection no longer walks them while requests wait."""
    assert gc.get_freeze_count() > 100_000
