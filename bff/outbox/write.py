"""`enqueue` (inside the caller's transaction) and the sealing of one-time tokens in transit."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from functools import cache
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bff.outbox.kinds import MessageKind
from bff.outbox.models import Delivery, Notification, OutboxMessage
from bff.settings import Settings


async def enqueue(
    *,
    member_id: int | None,
    kind: MessageKind,
    params: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> OutboxMessage:
    """Queue a message; call it inside the transaction of the change that causes it, so both
    commit or neither does. `params` must be JSON: ids, numbers, short strings."""
    return await OutboxMessage.create(
        member_id=member_id,
        kind=kind.value,
        params=params or {},
        dedup_key=dedup_key,
        created_at=datetime.now(UTC),
    )


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
