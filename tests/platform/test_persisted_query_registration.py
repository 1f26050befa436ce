"""Registering persisted queries cannot fill memory or Redis: only documents that parse and
validate are stored, each within a size cap, the stores are bounded by bytes, an address registers
a limited number per window, and Redis keeps documents for a TTL within a byte budget."""

from __future__ import annotations

import uuid

import pytest

from bff.graphql.persisted import LocalQueryStore, RedisQueryStore, sha256_hex
from bff.redis_clients import close_shared_redis

REDIS_URL = "redis://127.0.0.1:6379/0"


def apq(query: str | None, sha256_hash: str) -> dict[str, object]:
    body: dict[str, object] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hash}}
    }
    if query is not None:
        body["query"] = query
    return body


async def register_then_fetch(client, query: str) -> tuple[dict, dict]:
    sha256_hash = sha256_hex(query)
    first = await client.post("/graphql", json=apq(query, sha256_hash))
    by_hash = await client.post("/graphql", json=apq(None, sha256_hash))
    return first.json(), by_hash.json()


def code(body: dict) -> str:
    return str(body["errors"][0]["extensions"]["code"])


@pytest.mark.parametrize(
    "document",
    [
        "query Broken_TAG { __typename ",
        "query Unknown_TAG { noSuchField }",
        "query Deep_TAG { me { "
        + "cards { edges { node { member { " * 6
        + "id"
        + " } } } }" * 6
        + " } }",
    ],
    ids=["syntax-error", "unknown-field", "too-deep"],
)
async def test_a_document_that_does_not_parse_or_validate_is_never_registered(client, document):
    query = document.replace("TAG", uuid.uuid4().hex)

    first, by_hash = await register_then_fetch(client, query)

    assert first["errors"]
    assert code(by_hash) == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_valid_document_is_registered_once_it_ran(client):
    query = f"query Fine_{uuid.uuid4().hex} {{ __typename }}"

    first, by_hash = await register_then_fetch(client, query)

    assert first == by_hash == {"data": {"__typename": "Query"}}


async def test_a_document_over_the_size_cap_is_refused_and_not_stored(client_with):
    """The attack of the issue: a ~900 kB comment around `{ __typename }`."""
    client = await client_with(persisted_query_max_bytes=20_000, max_query_bytes=2_000_000)
    query = "#" + "x" * 900_000 + f"\nquery Big_{uuid.uuid4().hex} {{ __typename }}"

    first, by_hash = await register_then_fetch(client, query)

    assert code(first) == "PERSISTED_QUERY_TOO_LARGE"
    assert code(by_hash) == "PERSISTED_QUERY_NOT_FOUND"


async def test_an_address_registers_only_its_allowance_per_window_and_the_rest_still_runs(
    client_with,
):
    client = await client_with(persisted_query_registrations_per_address=3)
    queries = [f"query Many_{uuid.uuid4().hex} {{ __typename }}" for _ in range(5)]

    results = [await register_then_fetch(client, query) for query in queries]

    assert all(first == {"data": {"__typename": "Query"}} for first, _ in results)
    found = [by_hash.get("data") is not None for _, by_hash in results]
    assert found == [True, True, True, False, False]


async def test_the_process_cache_is_bounded_by_bytes_as_well_as_by_count():
    store = LocalQueryStore(maxsize=100, max_bytes=250)
    for index in range(5):
        await store.put(f"h{index}", f"query Q{index} {{ me {{ id }} }}" + " " * 70)

    assert store.bytes <= 250
    assert len(store) == 2
    assert await store.get("h4") is not None
    assert await store.get("h0") is None


async def test_a_document_larger_than_the_whole_process_cache_is_not_kept():
    store = LocalQueryStore(maxsize=100, max_bytes=100)

    await store.put("big", "#" * 500)

    assert len(store) == 0
    assert store.bytes == 0


@pytest.mark.postgres_only  # Redis runs beside PostgreSQL (the CI's PostgreSQL run starts both)
async def test_redis_keeps_documents_for_the_ttl_and_within_its_byte_budget():
    prefix = f"bff:test:apq:{uuid.uuid4().hex}:"
    store = RedisQueryStore(
        REDIS_URL, maxsize=10, redis_max_bytes=1_000, ttl_seconds=3600, prefix=prefix
    )
    other_process = RedisQueryStore(
        REDIS_URL, maxsize=10, redis_max_bytes=1_000, ttl_seconds=3600, prefix=prefix
    )
    first = "query First { __typename }" + " " * 600
    second = "query Second { __typename }" + " " * 600
    try:
        await store.put(sha256_hex(first), first)
        await store.put(sha256_hex(second), second)

        assert await other_process.get(sha256_hex(first)) == first
        assert await other_process.get(sha256_hex(second)) is None  # over the budget
        ttl = await store.redis.ttl(prefix + sha256_hex(first))
        assert 3500 < ttl <= 3600
    finally:
        keys = [key async for key in store.redis.scan_iter(match=prefix + "*")]
        if keys:
            await store.redis.delete(*keys)
        await close_shared_redis()
