"""Persisted queries: Apollo APQ over POST and GET, the trusted-documents mode, the manifest and
the parse/validation caches."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from bff.app import build_app
from bff.graphql.documents import cached_parse, cached_validation
from bff.graphql.persisted import (
    LocalQueryStore,
    RedisQueryStore,
    build_manifest,
    load_manifest,
    sha256_hex,
)
from bff.graphql.persisted import main as manifest_command
from tests.conftest import make_settings
from tests.factories import signed_in_member

ME_EMAIL = "query MeEmail { me { email } }"
TRUSTED_ME = """query TrustedMe {
  me {
    id
    email
  }
}
"""


def apq(sha256_hash: str, query: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hash}}
    }
    if query is not None:
        body["query"] = query
    return body


def unique_query() -> str:
    """A query text no other test has registered (the store lives as long as the app)."""
    return f"query Unique_{uuid.uuid4().hex} {{ me {{ id }} }}"


def error_code(body: dict[str, object]) -> str:
    errors = body["errors"]
    assert isinstance(errors, list)
    return str(errors[0]["extensions"]["code"])


async def test_an_unknown_hash_alone_is_persisted_query_not_found(client):
    """A hash the server has never seen asks the client to send the query text."""
    query = unique_query()

    response = await client.post("/graphql", json=apq(sha256_hex(query)))

    assert error_code(response.json()) == "PERSISTED_QUERY_NOT_FOUND"
    assert response.json()["errors"][0]["message"] == "PersistedQueryNotFound"


async def test_a_query_sent_with_its_hash_is_registered_and_then_runs_by_hash_over_post_and_get(
    client,
):
    """After one request with text and hash, the hash alone runs it, also as a GET."""
    _, token = await signed_in_member(email="apq@example.com")
    auth = {"Authorization": f"Bearer {token}"}
    sha256_hash = sha256_hex(ME_EMAIL)

    first = await client.post("/graphql", json=apq(sha256_hash, ME_EMAIL), headers=auth)
    by_post = await client.post("/graphql", json=apq(sha256_hash), headers=auth)
    by_get = await client.get(
        "/graphql",
        params={"extensions": json.dumps(apq(sha256_hash)["extensions"])},
        # What Apollo sends; a browser's */* without a query gets GraphiQL instead.
        headers={**auth, "Accept": "application/graphql-response+json, application/json;q=0.9"},
    )

    expected = {"data": {"me": {"email": "apq@example.com"}}}
    assert first.json() == expected
    assert by_post.json() == expected
    assert by_get.status_code == 200
    assert by_get.json() == expected


async def test_a_hash_that_does_not_match_its_query_is_refused_and_not_registered(client):
    """A wrong hash never stores the text under it."""
    query = unique_query()
    wrong_hash = sha256_hex(query + " ")

    refused = await client.post("/graphql", json=apq(wrong_hash, query))
    afterwards = await client.post("/graphql", json=apq(wrong_hash))

    assert error_code(refused.json()) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert "data" not in refused.json() or refused.json()["data"] is None
    assert error_code(afterwards.json()) == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_registered_mutation_is_refused_over_get(client):
    """GET runs queries only, also when the document comes from the store by hash."""
    mutation = "mutation LogoutByHash { logout { ok } }"
    sha256_hash = sha256_hex(mutation)
    await client.post("/graphql", json=apq(sha256_hash, mutation))

    response = await client.get(
        "/graphql",
        params={"extensions": json.dumps(apq(sha256_hash)["extensions"])},
        headers={"Accept": "application/json"},
    )

    assert response.status_code in {400, 405}
    assert "data" not in response.json() or response.json()["data"] is None


async def test_an_unsupported_persisted_query_version_is_refused(client):
    """Only version 1 of the protocol is spoken."""
    query = unique_query()

    response = await client.post(
        "/graphql",
        json={
            "query": query,
            "extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha256_hex(query)}},
        },
    )

    assert error_code(response.json()) == "PERSISTED_QUERY_NOT_SUPPORTED"


async def test_the_local_store_keeps_only_the_most_recently_used_documents():
    """The store is bounded: the least recently used document leaves first."""
    store = LocalQueryStore(maxsize=2)
    await store.put("a", "query A { me { id } }")
    await store.put("b", "query B { me { id } }")
    await store.get("a")

    await store.put("c", "query C { me { id } }")

    assert len(store) == 2
    assert await store.get("b") is None
    assert await store.get("a") == "query A { me { id } }"


# Redis runs beside PostgreSQL (CI starts both before the PostgreSQL run; `make test` needs none).
@pytest.mark.postgres_only
async def test_the_redis_store_shares_documents_between_processes():
    """A document put by one store (process) is found by another through Redis."""
    query = unique_query()
    writer = RedisQueryStore("redis://127.0.0.1:6379/0", maxsize=10)
    reader = RedisQueryStore("redis://127.0.0.1:6379/0", maxsize=10)

    await writer.put(sha256_hex(query), query)
    found = await reader.get(sha256_hex(query))

    await writer.redis.aclose()
    await reader.redis.aclose()
    assert found == query


async def test_a_repeated_operation_skips_parse_and_validation(client):
    """The second identical request hits both document caches and misses neither."""
    query = unique_query()
    parse_cache, validate_cache = cached_parse, cached_validation
    await client.post("/graphql", json={"query": query})
    parsed, validated = parse_cache.cache_info(), validate_cache.cache_info()

    await client.post("/graphql", json={"query": query})

    assert parse_cache.cache_info().hits == parsed.hits + 1
    assert parse_cache.cache_info().misses == parsed.misses
    assert validate_cache.cache_info().hits == validated.hits + 1
    assert validate_cache.cache_info().misses == validated.misses


@pytest.fixture
def clients_dir(tmp_path: Path) -> Path:
    clients = tmp_path / "clients"
    (clients / "web").mkdir(parents=True)
    (clients / "web" / "trusted-me.graphql").write_text(TRUSTED_ME)
    return clients


@pytest.fixture
async def trusted_client(app, database_url, clients_dir) -> AsyncIterator[httpx.AsyncClient]:
    """The app in trusted-documents mode with a manifest of one operation (TrustedMe)."""
    manifest = clients_dir / "manifest.json"
    manifest.write_text(build_manifest(clients_dir))
    settings = make_settings(
        database_url, trusted_documents_only=True, trusted_documents_manifest=str(manifest)
    )
    # The session app already opened the database; this one shares it and skips its lifespan.
    transport = httpx.ASGITransport(app=build_app(settings), client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def manifest_entry(clients: Path) -> dict[str, str]:
    entry: dict[str, str] = json.loads(build_manifest(clients))["operations"][0]
    return entry


async def test_trusted_mode_runs_a_manifest_operation_by_hash(trusted_client, clients_dir):
    """An operation of the manifest runs from its hash alone."""
    _, token = await signed_in_member(email="trusted@example.com")
    entry = manifest_entry(clients_dir)

    response = await trusted_client.post(
        "/graphql", json=apq(entry["id"]), headers={"Authorization": f"Bearer {token}"}
    )

    assert response.json()["data"]["me"]["email"] == "trusted@example.com"
    assert response.json()["data"]["me"]["__typename"] == "Member"


async def test_trusted_mode_refuses_any_other_document_with_a_clear_error(trusted_client):
    """Text, hash or both of an operation outside the manifest are refused, never registered."""
    query = unique_query()

    as_text = await trusted_client.post("/graphql", json={"query": query})
    as_hash = await trusted_client.post("/graphql", json=apq(sha256_hex(query)))
    as_both = await trusted_client.post("/graphql", json=apq(sha256_hex(query), query))

    for response in (as_text, as_hash, as_both):
        assert error_code(response.json()) == "TRUSTED_DOCUMENT_REQUIRED"
        assert "clients/manifest.json" in response.json()["errors"][0]["message"]
        assert response.json().get("data") is None


async def test_trusted_mode_accepts_the_exact_text_of_a_manifest_operation(
    trusted_client, clients_dir
):
    """A client that sends the manifest's text itself (no hash) is also running a trusted one."""
    entry = manifest_entry(clients_dir)

    response = await trusted_client.post("/graphql", json={"query": entry["body"]})

    assert response.json() == {"data": {"me": None}}


def test_the_manifest_names_each_operation_with_the_hash_of_its_body(clients_dir):
    """Entries follow Apollo's manifest format; bodies carry __typename as Apollo Client sends."""

    manifest = json.loads(build_manifest(clients_dir))

    assert manifest["format"] == "apollo-persisted-query-manifest"
    [entry] = manifest["operations"]
    assert entry["name"] == "TrustedMe"
    assert entry["type"] == "query"
    assert entry["id"] == sha256_hex(entry["body"])
    assert "__typename" in entry["body"]


def test_the_manifest_refuses_two_operations_with_one_name(clients_dir):
    """Clients look operations up by name, so a name may appear once across clients/."""
    (clients_dir / "mobile").mkdir()
    (clients_dir / "mobile" / "again.graphql").write_text(TRUSTED_ME)

    with pytest.raises(ValueError, match="unique"):
        build_manifest(clients_dir)


def test_a_manifest_whose_body_does_not_match_its_id_is_refused(tmp_path):
    """A hand-edited manifest cannot make the server run other text under a known hash."""
    path = tmp_path / "manifest.json"
    operation = {"id": "0" * 64, "name": "X", "type": "query", "body": "query X { me { id } }"}
    manifest = {"format": "apollo-persisted-query-manifest", "version": 1}
    path.write_text(json.dumps({**manifest, "operations": [operation]}))

    with pytest.raises(ValueError, match="hash"):
        load_manifest(path)


def test_the_committed_manifest_matches_the_client_operations(capsys):
    """clients/manifest.json is rebuilt from clients/ in CI; a stale one fails (`make manifest`)."""

    code = manifest_command(["--check"])

    assert code == 0, capsys.readouterr().err


APOLLO_TEST = Path(__file__).resolve().parent.parent / "clients" / "apq-test"


@asynccontextmanager
async def serving(application: Starlette) -> AsyncIterator[str]:
    """Serve the app with uvicorn on a free loopback port of this event loop; yields its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # The database is already open (session app), so the server skips the lifespan.
    server = uvicorn.Server(uvicorn.Config(application, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, no event)
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def apollo(*args: str) -> dict[str, Any]:
    """Run clients/apq-test/run.mjs (Apollo Client from npm: `npm ci` in that folder first)."""
    assert (APOLLO_TEST / "node_modules" / "@apollo" / "client").is_dir(), (
        "run `npm ci --prefix clients/apq-test` first"
    )
    process = await asyncio.create_subprocess_exec(
        "node",
        "run.mjs",
        *args,
        cwd=APOLLO_TEST,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out)
    return result


async def test_apollo_clients_persisted_query_link_registers_then_sends_hashes_only(app):
    """Apollo's link: hash alone (miss), then text with hash, then hash alone over POST and GET."""
    _, token = await signed_in_member(email="apollo@example.com")

    async with serving(app) as url:
        run = await apollo("apq", url, token)

    requests = run["requests"]
    assert [(r["method"], r["sentQuery"], r["errorCode"]) for r in requests] == [
        ("POST", False, "PERSISTED_QUERY_NOT_FOUND"),
        ("POST", True, None),
        ("POST", False, None),
        ("GET", False, None),
    ]
    assert len({r["sha256Hash"] for r in requests}) == 1
    for name in ("first", "second", "get"):
        assert run["results"][name]["data"]["me"]["email"] == "apollo@example.com"


async def test_apollo_client_runs_manifest_operations_and_is_refused_others_in_trusted_mode(
    app, database_url, clients_dir
):
    """With ids from the manifest, Apollo's operation runs; its own ad-hoc operation is refused."""
    _, token = await signed_in_member(email="apollo-trusted@example.com")
    manifest = clients_dir / "manifest.json"
    manifest.write_text(build_manifest(clients_dir))
    settings = make_settings(
        database_url, trusted_documents_only=True, trusted_documents_manifest=str(manifest)
    )

    async with serving(build_app(settings)) as url:
        run = await apollo("trusted", url, token, str(manifest))

    assert run["results"]["trusted"]["data"]["me"]["email"] == "apollo-trusted@example.com"
    assert run["results"]["untrusted"]["data"] is None
    assert "clients/manifest.json" in run["results"]["untrusted"]["error"]
    assert [r["errorCode"] for r in run["requests"]] == [None, "TRUSTED_DOCUMENT_REQUIRED"]
    assert not any(r["sentQuery"] for r in run["requests"])


@pytest.mark.parametrize("production", [False, True])
async def test_a_hash_only_get_with_apollos_accept_header_runs_the_trusted_operation(
    app, database_url, clients_dir, production
):
    """Apollo Client 3 sends hash-only GETs with `Accept: */*`: the result, never GraphiQL's
    page (development) nor a 404 (production)."""
    manifest = clients_dir / "manifest.json"
    manifest.write_text(build_manifest(clients_dir))
    overrides: dict[str, Any] = {"trusted_documents_manifest": str(manifest)}
    if production:
        overrides |= {"bff_env": "production", "graphiql": False, "introspection": False}
    settings = make_settings(database_url, trusted_documents_only=True, **overrides)
    _, token = await signed_in_member(email="get@example.com")
    entry = manifest_entry(clients_dir)
    transport = httpx.ASGITransport(app=build_app(settings), client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get(
            "/graphql",
            params={
                "operationName": "TrustedMe",
                "extensions": json.dumps(apq(entry["id"])["extensions"]),
            },
            headers={"Accept": "*/*", "Authorization": f"Bearer {token}"},
        )

    assert response.status_code == 200
    assert response.json()["data"]["me"]["email"] == "get@example.com"
