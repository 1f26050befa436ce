"""Prometheus metrics at /metrics: on in development, behind METRICS_TOKEN, bounded labels, and
each metric moved by the event it counts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bff.events.event import Event, EventKind
from bff.events.redis_bus import RedisEventBus
from bff.graphql.persisted import sha256_hex
from bff.redis_clients import close_shared_redis
from tests.conftest import INTERNAL_API_KEY, make_settings
from tests.factories import create_member, signed_in_member
from tests.realtime.conftest import serving
from tests.realtime.wsclient import signed_in_ws

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = json.loads((ROOT / "clients" / "manifest.json").read_text())
WEB_LOGIN = next(op for op in MANIFEST["operations"] if op["name"] == "WebLogin")
PASSWORD = "a long enough passphrase 42"


async def scrape(client, **headers: str) -> dict[tuple[str, tuple], float]:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def login_by_hash(client, email: str, password: str) -> dict:
    body = {
        "variables": {"email": email, "password": password},
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": WEB_LOGIN["id"]}},
    }
    return (await client.post("/graphql", json=body)).json()


async def test_manifest_operations_get_their_name_and_any_other_document_is_other(client):
    before = await scrape(client)
    member = await create_member(password=PASSWORD)

    await login_by_hash(client, member.email, PASSWORD)
    await client.post("/graphql", json={"query": "query Whatever_123 { __typename }"})
    after = await scrape(client)

    requests = "bff_graphql_requests_total"
    assert value(after, requests, operation="WebLogin", outcome="ok") == (
        value(before, requests, operation="WebLogin", outcome="ok") + 1
    )
    assert value(after, requests, operation="other", outcome="ok") >= (
        value(before, requests, operation="other", outcome="ok") + 1
    )
    assert not any("Whatever_123" in str(key) for key in after)
    assert value(after, "bff_graphql_request_seconds_count", operation="WebLogin") > 0
    statements = "bff_sql_statements_total"
    assert value(after, statements, operation="WebLogin") > value(
        before, statements, operation="WebLogin"
    )
    assert value(after, "bff_sql_seconds_total", operation="WebLogin") > 0


async def test_errors_are_counted_by_code_and_refusals_as_refused(client):
    before = await scrape(client)
    unknown = sha256_hex("query NeverSeen_9 { __typename }")

    await client.post(
        "/graphql", json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": unknown}}}
    )
    await client.post("/graphql", json={"query": "{ noSuchField }"})
    after = await scrape(client)

    code = "PERSISTED_QUERY_NOT_FOUND"
    assert value(after, "bff_graphql_errors_total", code=code) == (
        value(before, "bff_graphql_errors_total", code=code) + 1
    )
    refused = {"operation": "other", "outcome": "refused"}
    assert value(after, "bff_graphql_requests_total", **refused) >= (
        value(before, "bff_graphql_requests_total", **refused) + 1
    )


async def test_sign_ins_and_throttled_attempts_are_counted(client_with):
    client = await client_with(throttle_max_failures=1)
    member = await create_member(password=PASSWORD)
    before = await scrape(client)

    await login_by_hash(client, member.email, PASSWORD)
    await login_by_hash(client, member.email, "wrong one")
    await login_by_hash(client, member.email, "wrong two")
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("bff_sign_ins_total", outcome="ok") == 1
    assert delta("bff_sign_ins_total", outcome="invalid") == 1
    assert delta("bff_sign_ins_total", outcome="throttled") == 1
    assert delta("bff_throttled_attempts_total", factor="password") == 1
    assert value(after, "bff_password_hashes_running") == 0
    assert value(after, "bff_password_hashes_waiting") == 0


async def test_internal_api_calls_are_counted_by_endpoint_and_status(client):
    before = await scrape(client)

    await client.post("/internal/v1/cards", json={}, headers={"X-Api-Key": INTERNAL_API_KEY})
    await client.post("/internal/v1/cards", json={}, headers={"X-Api-Key": "wrong"})
    await client.post("/internal/v1/nowhere/123", json={}, headers={"X-Api-Key": INTERNAL_API_KEY})
    after = await scrape(client)

    name = "bff_internal_api_requests_total"
    for labels in (
        {"endpoint": "cards", "status": "201"},
        {"endpoint": "cards", "status": "401"},
        {"endpoint": "unknown", "status": "404"},
    ):
        assert value(after, name, **labels) == value(before, name, **labels) + 1
    assert not any("nowhere" in str(key) for key in after)


async def test_open_websockets_and_subscriptions_are_gauged(client, app):
    _, token = await signed_in_member()
    async with serving(app) as url, signed_in_ws(url, token) as ws:
        await ws.subscribe("1", "subscription { pointsBalanceChanged { available } }")
        async with asyncio.timeout(10):
            await ws.receive()
        during = await scrape(client)
    await asyncio.sleep(0.2)
    after = await scrape(client)

    assert value(during, "bff_websockets_open") >= 1
    assert value(during, "bff_subscriptions_open") >= 1
    assert value(after, "bff_websockets_open") == value(during, "bff_websockets_open") - 1


async def test_redis_health_is_gauged(client_with):
    client = await client_with(redis_url="redis://127.0.0.1:1/0")
    try:
        await client.post(
            "/graphql",
            json={"query": 'mutation { login(input: {email: "a@b.c", password: "x"}) { token } }'},
        )
        samples = await scrape(client)
    finally:
        await close_shared_redis()

    assert value(samples, "bff_redis_up") == 0


async def test_a_metrics_token_is_required_when_set(client_with):
    client = await client_with(metrics_token="scrape-token-" + "s" * 20)

    refused = await client.get("/metrics")
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    samples = await scrape(client, Authorization="Bearer scrape-token-" + "s" * 20)

    assert refused.status_code == 401
    assert wrong.status_code == 401
    assert ("bff_websockets_open", ()) in samples


async def test_metrics_are_off_in_production_unless_enabled_and_then_need_a_token(client_with):
    off = await client_with(bff_env="production")

    response = await off.get("/metrics")
    enabled = make_settings("postgres://x/y", bff_env="production", metrics_enabled=True)

    assert response.status_code == 404
    assert any(problem.startswith("METRICS_TOKEN:") for problem in enabled.production_problems())


@pytest.mark.postgres_only
async def test_the_database_pool_in_use_is_gauged(client):
    samples = await scrape(client)

    assert ("bff_db_pool_connections_in_use", ()) in samples


@pytest.mark.postgres_only  # Redis runs beside PostgreSQL (the CI's PostgreSQL run starts both)
async def test_events_published_to_redis_and_received_back_are_counted(client):
    bus = RedisEventBus("redis://127.0.0.1:6379/0", f"bff:test:metrics:{id(client)}")
    await bus.start()
    before = await scrape(client)
    try:
        await bus.publish(Event(kind=EventKind.POINTS_BALANCE_CHANGED, member_id=1))
        async with asyncio.timeout(5):
            received = value(before, "bff_events_received_total")
            while value(await scrape(client), "bff_events_received_total") == received:  # noqa: ASYNC110 (a counter)
                await asyncio.sleep(0.05)
    finally:
        await bus.stop()
    after = await scrape(client)

    assert value(after, "bff_events_published_total", outcome="ok") == (
        value(before, "bff_events_published_total", outcome="ok") + 1
    )
    # The event's trip through Redis is timed: one more observation of the lag, a short one.
    lag_count = value(after, "bff_event_bus_lag_seconds_count")
    assert lag_count == value(before, "bff_event_bus_lag_seconds_count") + 1
    assert value(after, "bff_event_bus_lag_seconds_bucket", le="5.0") == lag_count
