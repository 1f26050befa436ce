"""The PostgreSQL client: Tortoise's asyncpg client on connections released without a reset query,
and the pinned connection a query request runs all its statements on (`PinnedConnection`).

Tortoise takes a pooled connection for each statement outside a transaction and gives it back
after it; asyncpg's pool then sends a reset query (`SELECT pg_advisory_unlock_all(); CLOSE ALL;
UNLISTEN *; RESET ALL;`) before another task may use the connection: a second round trip for
every statement, which the dashboard paid seven times. The app leaves nothing for that query to
undo: it takes no advisory locks, declares no cursors outside transactions, never LISTENs on
PostgreSQL (the event bus is Redis) and never changes a session setting (`SET`; `SET LOCAL` ends
with its transaction). asyncpg still rolls back a transaction left open on release.

Tortoise finds the client through the engine module's `client_class` (`tortoise_config` names
this module as the engine of PostgreSQL URLs).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import asyncpg
from tortoise import connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    ConnectionWrapper,
    PoolConnectionWrapper,
    TransactionalDBClient,
    TransactionContext,
)
from tortoise.exceptions import TransactionManagementError


class NoResetConnection(asyncpg.Connection):
    """A connection that goes back to the pool as it is (see the module's docstring)."""

    def get_reset_query(self) -> str:
        return ""


class PostgresClient(AsyncpgDBClient):
    # asyncpg-stubs make Connection generic in its record class, which the runtime class is not
    connection_class = NoResetConnection  # type: ignore[assignment]


client_class = PostgresClient


class PinnedConnection(PostgresClient):
    """One pooled connection for a whole read request, in place of one per statement.

    Set as the current client of a request (`bff.db.connection.one_connection`), it takes a
    connection from the pool at its first statement and gives it back once, at the end: one
    acquire and one release per request. Statements of concurrent resolvers take turns on it
    (asyncpg runs one at a time per connection). A transaction opened meanwhile runs on the same
    connection and keeps it for itself until it ends, so no other statement lands inside it.
    After the request, a straggler gets a connection of its own from the pool as usual.

    It never waits for a second connection while holding one, so requests that each hold one
    cannot exhaust the pool and deadlock; and it is only for reads (queries), which never wait
    for a password hash.
    """

    def __init__(self, parent: PostgresClient) -> None:
        # Like Tortoise's TransactionWrapper: the parent's identity, no pool of its own.
        self.parent = parent
        self._connection = None
        self.turns = asyncio.Lock()  # one statement (or transaction) at a time
        self.released = False
        self._pooled: PoolConnectionWrapper[Any] | ConnectionWrapper[Any] | None = None
        self.log = parent.log
        self.connection_name = parent.connection_name
        self.fetch_inserted = parent.fetch_inserted

    def acquire_connection(self) -> Any:  # noqa: ANN401 (Tortoise's own signature)
        if self.released:
            return self.parent.acquire_connection()
        return _PinnedUse(self)

    def _in_transaction(self) -> TransactionContext:
        if self.released:
            return self.parent._in_transaction()  # noqa: SLF001 (Tortoise's protocol)
        return _PinnedTransaction(self)

    async def take(self) -> asyncpg.Connection:
        """This request's connection, from the pool on first use (call it holding `turns`)."""
        if self._connection is None:
            pooled = self.parent.acquire_connection()
            self._connection = await pooled.__aenter__()
            self._pooled = pooled
        return cast("asyncpg.Connection", self._connection)

    async def release(self) -> None:
        """Give the connection back to the pool (once every statement on it has finished)."""
        async with self.turns:
            self.released = True
            pooled, self._pooled, self._connection = self._pooled, None, None
            if pooled is not None:
                await pooled.__aexit__(None, None, None)


class _PinnedUse:
    """One statement's turn on a pinned connection (or, once the request has ended while it
    waited for its turn, a pooled connection of its own)."""

    __slots__ = ("client", "own")

    def __init__(self, client: PinnedConnection) -> None:
        self.client = client
        self.own: Any = None

    async def __aenter__(self) -> asyncpg.Connection:
        client = self.client
        await client.turns.acquire()
        if client.released:
            client.turns.release()
            self.own = client.parent.acquire_connection()
            return cast("asyncpg.Connection", await self.own.__aenter__())
        try:
            return await client.take()
        except BaseException:
            client.turns.release()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        if self.own is not None:
            await self.own.__aexit__(*exc_info)
        else:
            self.client.turns.release()


class _PinnedTransaction(TransactionContext):
    """A transaction on the pinned connection, which it keeps to itself until it ends (or, once
    the request has ended while it waited for its turn, on a pooled connection of its own)."""

    def __init__(self, pinned: PinnedConnection) -> None:
        self.pinned = pinned
        self.connection_name = pinned.connection_name
        self.own: TransactionContext | None = None

    async def __aenter__(self) -> TransactionalDBClient:
        pinned = self.pinned
        await pinned.turns.acquire()
        if pinned.released:
            pinned.turns.release()
            self.own = pinned.parent._in_transaction()  # noqa: SLF001 (Tortoise's protocol)
            return await self.own.__aenter__()
        try:
            await pinned.take()
            self.client = TransactionWrapper(pinned)
            self.token = connections.set(self.connection_name, self.client)
        except BaseException:
            pinned.turns.release()
            raise
        try:
            await self.client.begin()
        except BaseException:
            connections.reset(self.token)
            pinned.turns.release()
            raise
        return self.client

    async def __aexit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        if self.own is not None:
            await self.own.__aexit__(exc_type, *exc_info)
            return
        client = cast("TransactionWrapper", self.client)
        try:
            if not client._finalized:  # noqa: SLF001 (as Tortoise's own contexts read it)
                if exc_type is None:
                    await client.commit()
                elif exc_type is not TransactionManagementError:
                    await client.rollback()
        finally:
            connections.reset(self.token)
            self.pinned.turns.release()
