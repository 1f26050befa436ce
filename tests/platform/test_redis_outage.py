"""A Redis outage degrades instead of stopping sign-in: throttling falls back to the database,
persisted queries to the process cache, events are dropped with a log line, each within a short
timeout, nothing internal reaches a client, and /readyz names Redis.

Two outages: Redis *down* (a port with nothing listening: connections are refused at once) and
Redis *frozen* (a socket that accepts connections and never answers: only timeouts end a wait).
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from bff.events.event import Event, EventKind
from bff.events.redis_bus import RedisEventBus
from bff.graphql.persisted import sha256_hex
from bff.redis_clients import close_shared_redis
from tests.factories import create_member
from tests.graphql_client import gql
from tests.loyalty.store import issue_card
from tests.loyalty.test_linking import link

PASSWORD = "correct horse battery staple"
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password, sessionTransport: BEARER}) {
    token userErrors { code }
  }
}
"""
REGISTER = """
mutation Register($email: String!) {
  register(input: {email: $email, password: "a long enough passphrase 42", firstName: "Olga",
                   lastName: "Ivanova", acceptTerms: true, sessionTransport: BEARER}) {
    token userErrors { field code }
  }
}
"""
# Every request of a flow must finish well within this, frozen Redis included.
QUICK_SECONDS = 3.0


def free_port() -> int:
    """A loopback port of this suite's range (8600-8699) that nothing listens on right now."""
    for port in range(8650, 8700):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8650-8699")


@pytest.fixture
async def down_redis() -> AsyncIterator[str]:
    yield f"redis://127.0.0.1:{free_port()}/0"
    await close_shared_redis()


@pytest.fixture
async def frozen_redis() -> AsyncIterator[str]:
    """A server that accepts connections, reads what it is sent and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(65536):
            pass

    server = await asyncio.start_server(swallow, "127.0.0.1", free_port())
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    await close_shared_redis()
    for writer in held:
        writer.close()
    server.close()


@pytest.fixture(params=["down", "frozen"])
def broken_redis(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_redis"))


async def timed(awaitable):
    started = time.monotonic()
    result = await awaitable
    return result, time.monotonic() - started


def nothing_internal(body: object) -> None:
    text = str(body)
    for leak in ("Error 111", "Connection refused", "127.0.0.1", "Timeout", "redis"):
        assert leak not in text


async def test_sign_in_register_and_link_card_work_while_redis_is_out(client_with, broken_redis):
    client = await client_with(redis_url=broken_redis)
    member = await create_member(password=PASSWORD)

    wrong, wrong_time = await timed(
        gql(client, LOGIN, {"email": member.email, "password": "not it"})
    )
    right, right_time = await timed(
        gql(client, LOGIN, {"email": member.email, "password": PASSWORD})
    )
    registered, register_time = await timed(
        gql(client, REGISTER, {"email": f"olga-{uuid.uuid4().hex[:8]}@example.com"})
    )
    number, code = await issue_card(client)
    linked, link_time = await timed(link(client, right["data"]["login"]["token"], number, code))

    assert wrong["data"]["login"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert right["data"]["login"]["token"]
    assert registered["data"]["register"]["token"]
    assert linked["userErrors"] == []
    for body in (wrong, right, registered, linked):
        nothing_internal(body)
    assert max(wrong_time, right_time, register_time, link_time) < QUICK_SECONDS


async def test_throttling_keeps_counting_in_the_database_while_redis_is_out(
    client_with, down_redis
):
    client = await client_with(
        redis_url=down_redis, throttle_free_failures=1, throttle_max_failures=3
    )
    member = await create_member(password=PASSWORD)

    for _ in range(3):
        await gql(client, LOGIN, {"email": member.email, "password": "wrong"})
    locked = await gql(client, LOGIN, {"email": member.email, "password": "wrong"})

    assert locked["data"]["login"]["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_persisted_queries_run_from_the_process_cache_while_redis_is_out(
    client_with, broken_redis
):
    client = await client_with(redis_url=broken_redis)
    query = f"query Outage_{uuid.uuid4().hex} {{ __typename }}"
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(query)}}

    (first, first_time) = await timed(
        client.post("/graphql", json={"query": query, "extensions": extensions})
    )
    (by_hash, hash_time) = await timed(client.post("/graphql", json={"extensions": extensions}))

    assert first.json() == {"data": {"__typename": "Query"}}
    assert by_hash.json() == {"data": {"__typename": "Query"}}
    nothing_internal(first.json())
    assert max(first_time, hash_time) < QUICK_SECONDS


async def test_an_unknown_hash_while_redis_is_out_asks_for_the_text_and_leaks_nothing(
    client_with, broken_redis
):
    client = await client_with(redis_url=broken_redis)
    sha256_hash = sha256_hex(f"query Unknown_{uuid.uuid4().hex} {{ __typename }}")

    response = await client.post(
        "/graphql",
        json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hash}}},
    )

    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    nothing_internal(response.json())


async def test_readyz_names_a_frozen_redis_within_its_timeout(client_with, frozen_redis):
    client = await client_with(redis_url=frozen_redis)

    response, elapsed = await timed(client.get("/readyz"))

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "up", "redis": "down"}
    assert elapsed < QUICK_SECONDS


async def test_publishing_an_event_to_an_absent_redis_returns_quickly(broken_redis):
    bus = RedisEventBus(broken_redis, "bff:test:outage")
    event = Event(kind=EventKind.POINTS_BALANCE_CHANGED, member_id=1)

    _, elapsed = await timed(bus.publish(event))
    await bus.stop()

    assert elapsed < QUICK_SECONDS
