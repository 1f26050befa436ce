"""The event bus: `publish(event)` and `subscribe(member_id)`, delivered in this process."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Self

from bff.events.event import Event

logger = logging.getLogger("bff.events")

# Events are notifications (subscribers re-read the state), so a consumer this far behind loses
# nothing by skipping the oldest ones; the queue only bounds memory for a stuck connection.
QUEUE_SIZE = 100


class EventStream:
    """The events of one member as they arrive, for one subscriber."""

    def __init__(self, member_id: int) -> None:
        self.member_id = member_id
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=QUEUE_SIZE)

    def offer(self, event: Event) -> None:
        """Queue `event` without waiting (the bus calls this)."""
        if self._queue.full():
            logger.warning("subscriber of member %s is behind; dropping an event", self.member_id)
            self._queue.get_nowait()
        self._queue.put_nowait(event)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        return await self._queue.get()


class EventBus:
    """In-process bus: what one process publishes reaches that process's subscribers.

    Subclasses carry events between processes; they all hand what arrives to `deliver`.
    """

    def __init__(self) -> None:
        self._streams: defaultdict[int, set[EventStream]] = defaultdict(set)

    async def start(self) -> None:
        """Connect; a subscription opened after this returns misses no event."""

    async def stop(self) -> None:
        """Disconnect."""

    async def publish(self, event: Event) -> None:
        """Send `event` to every subscriber of its member, in every process the bus spans."""
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        for stream in tuple(self._streams.get(event.member_id, ())):
            stream.offer(event)

    @asynccontextmanager
    async def subscribe(self, member_id: int) -> AsyncIterator[EventStream]:
        """The member's events from now on, until the block exits."""
        stream = EventStream(member_id)
        self._streams[member_id].add(stream)
        try:
            yield stream
        finally:
            streams = self._streams[member_id]
            streams.discard(stream)
            if not streams:
                del self._streams[member_id]

    def subscriber_count(self, member_id: int | None = None) -> int:
        """Open subscriptions in this process (of one member, or of all)."""
        if member_id is not None:
            return len(self._streams.get(member_id, ()))
        return sum(len(streams) for streams in self._streams.values())
