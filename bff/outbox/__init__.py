"""The outbox: messages a domain change causes, written in the change's own transaction.

    async with events.transaction():
        ...  # the change
        await outbox.enqueue(member_id=member.id, kind=MessageKind.POINTS_CREDITED,
                             params={"points": 120})

The relay (`bff.messages.jobs`) turns the committed rows into procrastinate jobs that deliver them.
"""

from bff.outbox.kinds import SECURITY_KINDS, MessageKind
from bff.outbox.models import OutboxMessage
from bff.outbox.write import (
    enqueue,
    erase_member,
    message_values,
    relay_after_commit,
    relay_soon,
    reveal_secret,
    seal_secret,
)

__all__ = [
    "SECURITY_KINDS",
    "MessageKind",
    "OutboxMessage",
    "enqueue",
    "erase_member",
    "message_values",
    "relay_after_commit",
    "relay_soon",
    "reveal_secret",
    "seal_secret",
]
