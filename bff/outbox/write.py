"""`enqueue` (inside the caller's transaction) and the sealing of one-time tokens in transit."""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bff import events
from bff.outbox.kinds import MessageKind
from bff.outbox.models import Delivery, Notification, OutboxMessage
from bff.settings import Settings

logger = logging.getLogger("bff.outbox")


async def enqueue(
    *,
    member_id: int | None,
    kind: MessageKind,
    params: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> OutboxMessage:
    """Queue a message; call it inside the transaction of the change that causes it, so both
    commit or neither does. `params` must be JSON: ids, numbers, short strings."""
    _relay_after_commit()
    return await OutboxMessage.create(
        member_id=member_id,
        kind=kind.value,
        params=params or {},
        dedup_key=dedup_key,
        created_at=datetime.now(UTC),
    )


def message_values(*, kind: MessageKind, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The columns (but member_id) of a message that the caller writes in a statement of its
    own, with a change in the same statement (so both commit or neither does), as `enqueue`
    would; once that statement has run, `await relay_soon()`."""
    return {"kind": kind.value, "params": params or {}, "created_at": datetime.now(UTC)}


async def relay_soon() -> None:
    """Nudge the relay for a message written by a statement of its own (`message_values`),
    already committed unless an `events.transaction()` encloses it, whose commit then nudges.
    A failed nudge only delays the message until the periodic relay."""
    for hook in _after_commit_hooks:
        if not events.call_after_commit(hook):
            try:
                await hook()
            except Exception:  # the message is committed: the periodic relay sends it
                logger.exception("nudging the outbox relay failed")


def _relay_after_commit() -> None:
    for hook in _after_commit_hooks:
        events.call_after_commit(hook)


# Set while a job app is open in this process (bff.messages.jobs): each nudges the relay once a
# transaction that queued messages has committed. Without one the periodic relay finds them.
_after_commit_hooks: list[Callable[[], Awaitable[None]]] = []


def relay_after_commit(hook: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    """Register `hook`; returns the function that removes it."""
    _after_commit_hooks.append(hook)
    return lambda: _after_commit_hooks.remove(hook)


async def erase_member(*, member_id: int) -> None:
    """Closing an account: the member's queued messages, notifications and deliveries go
    (they hold addresses and texts). Inside the closing transaction."""
    for table in (OutboxMessage, Notification, Delivery):
        await table.filter(member_id=member_id).delete()


@cache
def _box(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"bff outbox token sealing"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal_secret(token: str, *, settings: Settings) -> str:
    """A one-time token as it waits in the outbox for its mail: encrypted with SECRET_KEY, so
    the tables hold only hashes and ciphertext; the delivery drops it once sent."""
    return _box(settings.secret_key.get_secret_value()).encrypt(token.encode()).decode()


def reveal_secret(sealed: str, *, settings: Settings) -> str:
    return _box(settings.secret_key.get_secret_value()).decrypt(sealed.encode()).decode()
