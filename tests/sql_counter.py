"""Count the SQL statements the app sends, by wrapping the execute_* methods of Tortoise's clients.

Every statement Tortoise runs (SQLite or PostgreSQL, inside a transaction or not) goes through one
of these methods, so wrapping them on each client class sees all of them. BEGIN, COMMIT and
ROLLBACK go through the driver's transaction objects and are not counted.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from tortoise.backends.base.client import BaseDBAsyncClient

from tests.graphql_client import gql

EXECUTE_METHODS = (
    "execute_insert",
    "execute_query",
    "execute_query_dict",
    "execute_query_dict_with_affected",
    "execute_many",
    "execute_script",
)

# Set while a wrapped method runs: a method that calls another (execute_query_dict calling
# execute_query) is one statement, not two.
_inside = ContextVar("_inside", default=False)


@dataclass
class StatementLog:
    """The SQL strings sent while the counter was active, in order, and their parameters (the
    first row of an `execute_many`; None for a statement sent without any)."""

    statements: list[str] = field(default_factory=list)
    parameters: list[list[Any] | None] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


def _client_classes() -> Iterator[type[BaseDBAsyncClient]]:
    pending: list[type[BaseDBAsyncClient]] = [BaseDBAsyncClient]
    while pending:
        cls = pending.pop()
        yield cls
        pending.extend(cls.__subclasses__())


def _parameters_of(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any] | None:
    values = args[0] if args else kwargs.get("values")
    if not values:
        return None
    if name == "execute_many":
        values = values[0]
    return list(values)


def _counting(
    method: Callable[..., Awaitable[Any]], log: StatementLog
) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def wrapper(self: BaseDBAsyncClient, query: str, *args: Any, **kwargs: Any) -> Any:
        if _inside.get():
            return await method(self, query, *args, **kwargs)
        log.statements.append(query)
        log.parameters.append(_parameters_of(method.__name__, args, kwargs))
        token = _inside.set(True)
        try:
            return await method(self, query, *args, **kwargs)
        finally:
            _inside.reset(token)

    return wrapper


@contextmanager
def count_statements() -> Iterator[StatementLog]:
    """Record every SQL statement sent inside the `with` block."""
    log = StatementLog()
    originals: list[tuple[type, str, Any]] = []
    for cls in _client_classes():
        for name in EXECUTE_METHODS:
            method = cls.__dict__.get(name)
            if method is not None:
                originals.append((cls, name, method))
                setattr(cls, name, _counting(method, log))
    try:
        yield log
    finally:
        for cls, name, method in originals:
            setattr(cls, name, method)


async def gql_with_statements(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> tuple[dict[str, Any], StatementLog]:
    """POST one operation; returns its body and the statements it issued."""
    with count_statements() as log:
        body = await gql(client, query, variables, token=token)
    return body, log


@contextmanager
def count_round_trips() -> Iterator[list[str]]:
    """Record every message asyncpg sends PostgreSQL and waits for inside the `with` block:
    statements, BEGIN/COMMIT and the pool's reset queries (a prepared statement's first Parse is
    not counted: asyncpg caches it per connection)."""
    sent: list[str] = []
    original_execute = asyncpg.Connection.execute
    original_execute_rows = asyncpg.Connection._execute
    original_executemany = asyncpg.Connection._executemany

    async def execute(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        if not args:  # with arguments it goes through _execute, counted there
            sent.append(query)
        return await original_execute(self, query, *args, **kwargs)

    async def execute_rows(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(query)
        return await original_execute_rows(self, query, *args, **kwargs)

    async def executemany(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(query)
        return await original_executemany(self, query, *args, **kwargs)

    asyncpg.Connection.execute = execute  # type: ignore[method-assign]
    asyncpg.Connection._execute = execute_rows  # type: ignore[method-assign]
    asyncpg.Connection._executemany = executemany  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        asyncpg.Connection.execute = original_execute  # type: ignore[method-assign]
        asyncpg.Connection._execute = original_execute_rows  # type: ignore[method-assign]
        asyncpg.Connection._executemany = original_executemany  # type: ignore[method-assign]
