"""The event bus over Redis pub/sub: every process publishes to and listens on one channel."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import suppress
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from bff import metrics
from bff.events.bus import EventBus
from bff.events.event import Event
from bff.redis_clients import COMMAND_TIMEOUT_SECONDS, REDIS_FAILURES, connect_redis

if TYPE_CHECKING:
    from redis.asyncio.client import PubSub

logger = logging.getLogger("bff.events")

RECONNECT_DELAY_SECONDS = 1.0


class RedisEventBus(EventBus):
    """Publishes to one Redis channel; a listener task delivers what arrives to local subscribers.

    One channel for all members rather than one per member: the process subscribes once at
    start, so a subscription opened later cannot miss an event while a SUBSCRIBE is in flight,
    and subscribing costs Redis nothing per websocket. Each process receives every event and
    drops those of members it has no subscriber for, which is cheap at notification sizes.
    """

    def __init__(self, url: str, channel: str, *, client_name: str = "bff-events") -> None:
        super().__init__()
        self.channel = channel
        # Named, so `CLIENT LIST` on the Redis server shows which connections are the bus's.
        self._redis = connect_redis(url, client_name=client_name)
        # Publishing happens inside requests: it gives up quickly when Redis hangs.
        self._publisher = connect_redis(
            url, client_name=client_name, timeout=COMMAND_TIMEOUT_SECONDS
        )
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self.channel)
        self._listener = asyncio.create_task(self._listen(self._pubsub), name="bff-event-bus")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated upstream
            self._pubsub = None
        await self._redis.aclose()
        await self._publisher.aclose()

    async def publish(self, event: Event) -> None:
        try:
            await self._publisher.publish(self.channel, _stamped(event))
            metrics.EVENTS_PUBLISHED.labels(outcome="ok").inc()
        except REDIS_FAILURES:
            metrics.EVENTS_PUBLISHED.labels(outcome="failed").inc()
            # The change is committed; a lost notification only delays a live update (clients
            # read the state again when they reconnect), so the caller's request still succeeds.
            logger.exception("could not publish %s for member %s", event.kind, event.member_id)

    async def _listen(self, pubsub: PubSub) -> None:
        while True:
            try:
                message = await pubsub.get_message(timeout=None)
            except (RedisError, OSError) as error:
                metrics.EVENT_BUS_RECONNECTS.inc()
                # redis-py reconnects and subscribes again on the next read; events published
                # meanwhile are lost (pub/sub is at-most-once), see README "Real time".
                logger.warning("event bus lost Redis (%s); retrying", error)
                await asyncio.sleep(RECONNECT_DELAY_SECONDS)
                continue
            if message is None or message.get("type") != "message":
                continue
            try:
                event = Event.from_json(message["data"])
            except (ValueError, KeyError, TypeError):
                logger.warning("ignoring a malformed event on %s", self.channel)
                continue
            metrics.EVENTS_RECEIVED.inc()
            sent_at = _sent_at(message["data"])
            if sent_at is not None:
                metrics.EVENT_BUS_LAG_SECONDS.observe(max(0.0, time.time() - sent_at))
            self.deliver(event)


def _stamped(event: Event) -> str:
    """The event's JSON with the wall-clock time of publication (`sent_at`, seconds since the
    epoch) beside its fields, so listeners can measure the bus's lag; `Event` ignores it."""
    return event.to_json()[:-1] + f',"sent_at":{time.time():.6f}}}'


def _sent_at(raw: str | bytes) -> float | None:
    """The publication time `_stamped` added, or None (an event from an older process)."""
    value = json.loads(raw).get("sent_at")
    return float(value) if isinstance(value, int | float) else None
