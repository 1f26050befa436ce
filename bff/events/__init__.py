"""Real-time events: a bus (in-process, or Redis pub/sub across processes) and after-commit
publishing. Domain code queues events inside `transaction()`:

    async with events.transaction():
        ...  # writes
        events.publish_after_commit(events.points_balance_changed(member_id))
"""

from bff.events.bus import EventBus, EventStream
from bff.events.commit import call_after_commit, publish_after_commit, transaction
from bff.events.event import (
    Event,
    EventKind,
    card_status_changed,
    coupon_changed,
    notification_received,
    points_balance_changed,
    session_revoked,
    tier_changed,
)
from bff.events.runtime import create_bus, get_bus, publish, running_bus

__all__ = [
    "Event",
    "EventBus",
    "EventKind",
    "EventStream",
    "call_after_commit",
    "card_status_changed",
    "coupon_changed",
    "create_bus",
    "get_bus",
    "notification_received",
    "points_balance_changed",
    "publish",
    "publish_after_commit",
    "running_bus",
    "session_revoked",
    "tier_changed",
    "transaction",
]
