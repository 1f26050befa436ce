"""The process's bus: in-process by default, Redis when REDIS_URL is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from bff.events.bus import EventBus

if TYPE_CHECKING:
    from bff.events.event import Event
    from bff.settings import Settings

# Until the app starts its bus (e.g. `bff seed-demo`), events reach nobody, which is right:
# no subscriber can exist without the app.
_bus: EventBus = EventBus()


def create_bus(settings: Settings) -> EventBus:
    if settings.redis_url:
        from bff.events.redis_bus import RedisEventBus  # noqa: PLC0415 (only with Redis)

        return RedisEventBus(settings.redis_url, settings.events_channel)
    return EventBus()


def get_bus() -> EventBus:
    return _bus


async def publish(event: Event) -> None:
    """Publish now; domain code inside a transaction uses `publish_after_commit` instead."""
    await _bus.publish(event)


@asynccontextmanager
async def running_bus(settings: Settings) -> AsyncIterator[EventBus]:
    """Start the bus these settings ask for and make it the process's bus until exit."""
    global _bus  # noqa: PLW0603 (one bus per process, set by the app's lifespan)
    bus = create_bus(settings)
    await bus.start()
    previous, _bus = _bus, bus
    try:
        yield bus
    finally:
        _bus = previous
        await bus.stop()
