"""Events leave only after their transaction commits: `transaction()` and `publish_after_commit`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from tortoise.backends.base.client import NestedTransactionContext
from tortoise.transactions import in_transaction

from bff.events import runtime

if TYPE_CHECKING:
    from tortoise.backends.base.client import BaseDBAsyncClient

    from bff.events.event import Event

_queued: ContextVar[list[Event] | None] = ContextVar("bff_events_queued", default=None)
AfterCommit = Callable[[], Awaitable[None]]
_callbacks: ContextVar[list[AfterCommit] | None] = ContextVar("bff_after_commit", default=None)
logger = logging.getLogger("bff.events")


@asynccontextmanager
async def transaction(connection_name: str | None = None) -> AsyncIterator[BaseDBAsyncClient]:
    """`in_transaction()` whose queued events are published once it has committed.

    Nested inside another `transaction()`, its events join the outer one's (and are dropped
    with it on rollback). Inside a bare `in_transaction()` it refuses to run: it could not know
    when the outer transaction commits.
    """
    outer = _queued.get()
    context = in_transaction(connection_name)
    if outer is None and isinstance(context, NestedTransactionContext):
        msg = "events.transaction() inside a bare in_transaction(): make the outer one events'"
        raise RuntimeError(msg)
    queued: list[Event] = []
    callbacks: list[AfterCommit] = []
    token = _queued.set(queued)
    callbacks_token = _callbacks.set(callbacks)
    try:
        async with context as connection:
            yield connection
    finally:
        _queued.reset(token)
        _callbacks.reset(callbacks_token)
    # Reached only when the block committed: an exception skipped this and rolled back.
    if outer is not None:
        outer.extend(queued)
        outer_callbacks = _callbacks.get()
        if outer_callbacks is not None:
            outer_callbacks.extend(callbacks)
        return
    for event in dict.fromkeys(queued):  # once each, in order
        await runtime.publish(event)
    for callback in dict.fromkeys(callbacks):
        try:
            await callback()
        except Exception:  # the change is committed: a failed nudge must not undo the answer
            logger.exception("after-commit callback failed")


def publish_after_commit(event: Event) -> None:
    """Queue `event` on the enclosing `transaction()`; it is published after the commit."""
    queued = _queued.get()
    if queued is None:
        msg = "publish_after_commit() needs an enclosing bff.events.transaction()"
        raise RuntimeError(msg)
    queued.append(event)


def call_after_commit(callback: AfterCommit) -> bool:
    """Await `callback()` once the enclosing `transaction()` has committed (once per
    transaction, however often it is asked); False, and nothing queued, outside one."""
    callbacks = _callbacks.get()
    if callbacks is None:
        return False
    callbacks.append(callback)
    return True
