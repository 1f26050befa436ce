"""On PostgreSQL each statement is one round trip: pooled connections go back to the pool
without asyncpg's reset query, and a query request takes one connection for all its statements
(bff/db/postgres.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from bff.db.connection import one_connection
from tests.factories import create_member
from tests.graphql_client import gql
from tests.identity.conftest import PASSWORD
from tests.loyalty.store import STORE_HEADERS, receipt, store_post
from tests.sql_counter import count_round_trips, count_statements
from tests.test_client_operations import CLIENTS, create_offers, member_with, statements_of

pytestmark = pytest.mark.postgres_only

UPDATE_PREFERENCES = """
mutation { updatePreferences(input: {marketingByEmail: true}) { userErrors { code } } }
"""


async def test_the_web_dashboard_takes_one_round_trip_per_statement(client):
    """Seven statements, seven round trips: no reset query after each."""
    await create_offers(12)
    member = await member_with(cards=3, purchases=30)
    await statements_of(
        client, "web/operations/dashboard.graphql", member
    )  # session's last-seen touched

    with count_round_trips() as round_trips:
        statements = await statements_of(client, "web/operations/dashboard.graphql", member)

    assert statements > 0
    assert len(round_trips) == statements, round_trips


@contextmanager
def pool_acquisitions() -> Iterator[list[int]]:
    """The id of each connection taken from the pool inside the `with` block."""
    taken: list[int] = []
    original = asyncpg.Pool._acquire

    async def acquire(self: asyncpg.Pool, *args: Any) -> Any:
        connection = await original(self, *args)
        taken.append(id(connection))
        return connection

    asyncpg.Pool._acquire = acquire  # type: ignore[method-assign]
    try:
        yield taken
    finally:
        asyncpg.Pool._acquire = original  # type: ignore[method-assign]


@pytest.mark.parametrize("operation", ["web/operations/dashboard.graphql", "mobile/home.graphql"])
async def test_a_screens_query_takes_one_pooled_connection_for_all_its_statements(
    client, operation
):
    """Acquire once, release once: the statements of concurrent fields take turns on it."""
    await create_offers(12)
    member = await member_with(cards=3, purchases=30)

    with pool_acquisitions() as taken:
        statements = await statements_of(client, operation, member)

    assert statements > 1
    assert len(taken) == 1


async def test_a_mutation_takes_a_pooled_connection_per_statement_as_before(client):
    """Mutations may wait for a password hash, which must not hold a connection."""
    member = await member_with(cards=1, purchases=1)

    with pool_acquisitions() as taken:
        body = await gql(client, UPDATE_PREFERENCES, token=member[1])

    assert "errors" not in body, body
    assert len(taken) > 1


async def test_a_transaction_on_the_pinned_connection_keeps_it_until_it_ends(app):
    """A statement of a concurrent task waits for the transaction instead of running inside it."""
    seen: list[str] = []

    async def in_a_transaction() -> None:
        async with in_transaction() as transaction:
            await transaction.execute_query("SET LOCAL application_name = 'inside'")
            await asyncio.sleep(0.05)  # the other task's statement arrives meanwhile

    async def beside() -> None:
        await asyncio.sleep(0.01)
        client = connections.get("default")
        _, rows = await client.execute_query("SELECT current_setting('application_name') AS n")
        seen.append(rows[0]["n"])

    async with one_connection():
        with pool_acquisitions() as taken:
            await asyncio.gather(in_a_transaction(), beside())

    assert len(seen) == 1
    assert seen[0] != "inside"
    assert len(taken) == 1


async def test_a_statement_after_the_request_gets_a_connection_of_its_own(app):
    """A task that outlives the request is not left on a connection back in the pool."""
    async with one_connection():
        client = connections.get("default")
        await client.execute_query("SELECT 1")

    with pool_acquisitions() as taken:
        _, rows = await client.execute_query("SELECT 2 AS n")

    assert rows[0]["n"] == 2
    assert len(taken) == 1


async def test_a_statement_still_waiting_when_the_request_ends_takes_and_returns_its_own(app):
    """Queued behind the release, it runs on a connection of its own, which goes back too."""
    pool = connections.get("default")._pool
    holding = asyncio.Event()

    async def slow() -> None:
        holding.set()
        await connections.get("default").execute_query("SELECT pg_sleep(0.1)")

    async def late() -> int:
        await asyncio.sleep(0.03)  # queues behind the release, which waits for `slow`
        _, rows = await connections.get("default").execute_query("SELECT 3 AS n")
        return int(rows[0]["n"])

    async with one_connection():
        slow_statement = asyncio.create_task(slow())
        late_statement = asyncio.create_task(late())
        await holding.wait()

    assert await late_statement == 3
    await slow_statement
    assert pool.get_size() - pool.get_idle_size() == 0


async def test_a_store_request_takes_one_pooled_connection_for_all_its_statements(client):
    """A till's purchase (card, idempotency, points, coupons, offers: a transaction and the
    statements around it) and a benefits lookup each acquire once."""
    _, _, cards = await member_with(cards=1, purchases=1)
    number = cards[0].number

    with count_statements() as purchase_statements, pool_acquisitions() as purchase_taken:
        purchase = await store_post(client, "purchases", receipt(number, "25.00"))
    with count_statements() as lookup_statements, pool_acquisitions() as lookup_taken:
        lookup = await client.get(f"/internal/v1/cards/{number}/benefits", headers=STORE_HEADERS)

    assert purchase.status_code == 201, purchase.text
    assert lookup.status_code == 200, lookup.text
    assert purchase_statements.count > 1
    assert lookup_statements.count > 1
    assert (len(purchase_taken), len(lookup_taken)) == (1, 1)


MOBILE_LOGIN = (CLIENTS / "mobile" / "login.graphql").read_text()


@pytest.mark.parametrize(
    ("device", "password"),
    [("new", PASSWORD), ("known", PASSWORD), ("new", "not-the-password-at-all")],
    ids=["new-device", "known-device", "wrong-password"],
)
async def test_a_mobile_login_takes_at_most_one_round_trip_more_than_its_statements(
    client, device, password
):
    """Issue 15's target: no transaction of its own around throttle counts or the session."""
    await create_member(email="mobile@example.com", password=PASSWORD)
    variables = {"email": "mobile@example.com", "password": PASSWORD}
    await gql(client, MOBILE_LOGIN, variables)  # the device cookie, and the counters' rows
    if device == "new":
        client.cookies.clear()

    with count_statements() as log, count_round_trips() as round_trips:
        body = await gql(client, MOBILE_LOGIN, {**variables, "password": password})

    signed_in = password == PASSWORD
    assert bool(body["data"]["login"]["token"]) is signed_in, body
    assert log.count > 0
    assert len(round_trips) <= log.count + 1, round_trips
