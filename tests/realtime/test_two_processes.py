"""Two app processes (`bff serve` on two ports) sharing one PostgreSQL database and one Redis."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import INTERNAL_API_KEY
from tests.net import free_port
from tests.realtime.wsclient import signed_in_ws

pytestmark = pytest.mark.postgres_only

BFF = Path(sys.executable).with_name("bff")
REDIS_URL = "redis://127.0.0.1:6379/0"
PASSWORD = "correct horse battery staple 2026"

REGISTER = """
mutation ($email: String!, $password: String!) {
  register(input: {email: $email, password: $password, firstName: "Anna", lastName: "Petrova",
                   acceptTerms: true, sessionTransport: BEARER}) {
    token
    userErrors { code message }
  }
}
"""
LOGIN = """
mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password, sessionTransport: BEARER}) {
    token
    userErrors { code }
  }
}
"""
ME = "query { me { email } }"
LINK_CARD = """
mutation ($number: String!, $code: String!) {
  linkCard(input: {number: $number, verificationCode: $code}) { card { id } userErrors { code } }
}
"""
LOGOUT = "mutation { logout { ok } }"
BALANCE = "subscription { pointsBalanceChanged { pending lifetimeEarned } }"


@asynccontextmanager
async def bff_process(env: dict[str, str], cwd: Path) -> AsyncIterator[str]:
    """`bff serve` on a free port until the block exits; yields its base URL once it is ready."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        str(BFF), "serve", "--port", str(port), "--graceful-timeout", "2", env=env, cwd=cwd
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http, asyncio.timeout(30):
            while True:
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        yield url
    finally:
        process.terminate()
        await process.wait()


@pytest.fixture(scope="module")
async def two_processes(settings, app, tmp_path_factory) -> AsyncIterator[tuple[str, str]]:
    """Two servers on the test database and Redis, with the settings a deployment shares."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": REDIS_URL,
        "EVENTS_CHANNEL": f"bff:test:{uuid.uuid4().hex}",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "INTERNAL_API_KEYS": INTERNAL_API_KEY,
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST_KIB": "1024",
        "ARGON2_PARALLELISM": "1",
        "THROTTLE_FREE_FAILURES": "1",
        "THROTTLE_MAX_FAILURES": "3",
        "THROTTLE_MAX_DELAY_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }
    async with AsyncExitStack() as stack:
        cwd = tmp_path_factory.mktemp("serve")  # no stray .env is read
        first = await stack.enter_async_context(bff_process(env, cwd))
        second = await stack.enter_async_context(bff_process(env, cwd))
        yield first, second


async def gql(url: str, query: str, token: str | None = None, **variables: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    body: dict = response.json()
    assert "errors" not in body, body
    return body["data"]


async def store(url: str, path: str, body: dict) -> dict:
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.post(
            f"/internal/v1/{path}", json=body, headers={"X-Api-Key": INTERNAL_API_KEY}
        )
    assert response.status_code == 201, response.text
    answer: dict = response.json()
    return answer


def ws_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/graphql"


async def register(url: str) -> tuple[str, str]:
    email = f"two-{uuid.uuid4().hex[:8]}@example.com"
    registered = await gql(url, REGISTER, email=email, password=PASSWORD)
    assert registered["register"]["userErrors"] == []
    return email, registered["register"]["token"]


async def test_a_session_made_on_one_process_works_on_the_other(two_processes):
    """Sessions live in PostgreSQL: registering on the first, `me` answers on the second."""
    first, second = two_processes

    email, token = await register(first)
    me = await gql(second, ME, token)

    assert me == {"me": {"email": email}}


async def test_login_failures_on_both_processes_count_towards_one_lock(two_processes):
    """With THROTTLE_MAX_FAILURES=3, three failures spread over two processes lock the account."""
    first, second = two_processes
    email, _ = await register(first)

    failures = [
        await gql(url, LOGIN, email=email, password="wrong password, long enough")
        for url in (first, second, first)
    ]
    locked = await gql(second, LOGIN, email=email, password=PASSWORD)

    assert [f["login"]["userErrors"][0]["code"] for f in failures] == ["INVALID_CREDENTIALS"] * 3
    assert locked["login"] == {"token": None, "userErrors": [{"code": "TOO_MANY_ATTEMPTS"}]}


async def test_a_purchase_recorded_on_one_process_reaches_a_subscriber_on_the_other(two_processes):
    """A till posts to the first process; the member's websocket on the second gets the balance."""
    first, second = two_processes
    _, token = await register(first)
    card = await store(first, "cards", {})
    linked = await gql(
        second, LINK_CARD, token, number=card["number"], code=card["verificationCode"]
    )
    assert linked["linkCard"]["userErrors"] == []

    async with signed_in_ws(ws_url(second), token) as ws:
        await ws.subscribe("1", BALANCE)
        async with asyncio.timeout(10):
            initial = await ws.receive()
        await store(
            first,
            "purchases",
            {
                "receiptId": f"R-{uuid.uuid4().hex}",
                "cardNumber": card["number"],
                "storeId": "store-1",
                "total": "250.00",
            },
        )
        async with asyncio.timeout(10):
            after = await ws.receive()

    assert initial["payload"]["data"]["pointsBalanceChanged"]["pending"] == 0
    assert after["payload"]["data"]["pointsBalanceChanged"] == {"pending": 25, "lifetimeEarned": 25}


async def test_logging_out_on_one_process_closes_subscriptions_on_the_other(two_processes):
    """The session ends on the first process; its websocket on the second is closed (4403)."""
    first, second = two_processes
    _, token = await register(first)

    async with signed_in_ws(ws_url(second), token) as ws:
        await ws.subscribe("1", BALANCE)
        async with asyncio.timeout(10):
            await ws.receive()
        await gql(first, LOGOUT, token)
        async with asyncio.timeout(10):
            code = await ws.close_code()

    assert code == 4403
