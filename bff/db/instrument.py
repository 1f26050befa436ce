"""Every SQL statement counted and timed for /metrics, and traced as a span when tracing is on.

Tortoise has no query hook, so the `execute_*` methods of its client classes (SQLite and
PostgreSQL alike, inside a transaction or not) are wrapped once per process. BEGIN, COMMIT and
ROLLBACK go through the driver's transaction objects and are not counted. The statements are
labelled with the operation running (`bff.metrics.current_operation`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from tortoise.backends.base.client import BaseDBAsyncClient

from bff import metrics

EXECUTE_METHODS = (
    "execute_insert",
    "execute_query",
    "execute_query_dict",
    "execute_query_dict_with_affected",
    "execute_many",
    "execute_script",
)
_WRAPPED = "__bff_instrumented__"
# Set while a wrapped method runs: one that calls another is one statement, not two.
_inside: ContextVar[bool] = ContextVar("bff_sql_inside", default=False)
_tracer = trace.get_tracer("bff.db")


def use_tracer_provider(provider: trace.TracerProvider) -> None:
    """Send the SQL spans to `provider` (the app's, when tracing is on)."""
    global _tracer  # noqa: PLW0603 (one tracer per process, like the wrapped methods)
    _tracer = trace.get_tracer("bff.db", tracer_provider=provider)


def _client_classes() -> Iterator[type[BaseDBAsyncClient]]:
    pending: list[type[BaseDBAsyncClient]] = [BaseDBAsyncClient]
    while pending:
        cls = pending.pop()
        yield cls
        pending.extend(cls.__subclasses__())


def _instrumented(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def wrapper(self: BaseDBAsyncClient, query: str, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        if _inside.get():
            return await method(self, query, *args, **kwargs)
        token = _inside.set(True)
        operation = metrics.current_operation.get()
        started = time.perf_counter()
        try:
            if trace.get_current_span().is_recording():
                with _tracer.start_as_current_span(
                    "sql", attributes={"db.statement": query[:2_000], "db.system": _system(self)}
                ):
                    return await method(self, query, *args, **kwargs)
            return await method(self, query, *args, **kwargs)
        finally:
            _inside.reset(token)
            metrics.SQL_STATEMENTS.labels(operation=operation).inc()
            metrics.SQL_SECONDS.labels(operation=operation).inc(time.perf_counter() - started)

    setattr(wrapper, _WRAPPED, True)
    return wrapper


def _system(client: BaseDBAsyncClient) -> str:
    return str(client.capabilities.dialect)


def instrument_sql() -> None:
    """Wrap the execute methods of every loaded Tortoise client class (again for new ones)."""
    for cls in _client_classes():
        for name in EXECUTE_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, _WRAPPED, False):
                setattr(cls, name, _instrumented(method))
