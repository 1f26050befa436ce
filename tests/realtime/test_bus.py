"""The event bus: per-member delivery, after-commit publishing, and Redis across processes."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as redis
from tortoise.transactions import in_transaction

from bff import events
from bff.events.redis_bus import RedisEventBus
from bff.identity.models import Member
from tests.factories import create_member

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_a_subscriber_receives_its_members_events_and_no_others(app):
    """Events reach the subscribers of their member only."""
    bus = events.get_bus()

    async with bus.subscribe(1) as mine, bus.subscribe(2) as theirs:
        await bus.publish(events.points_balance_changed(1))
        received = await anext(mine)

    assert received == events.points_balance_changed(1)
    assert theirs._queue.empty()
    assert bus.subscriber_count() == 0


async def test_events_queued_in_a_transaction_are_published_only_after_it_commits(app):
    """Nothing is delivered while the transaction is open; the event arrives after commit."""
    member = await create_member()
    bus = events.get_bus()

    async with bus.subscribe(member.id) as stream:
        async with events.transaction():
            await Member.filter(id=member.id).update(first_name="Olga")
            events.publish_after_commit(events.points_balance_changed(member.id))
            undelivered_inside = stream._queue.empty()
        received = await anext(stream)

    assert undelivered_inside
    assert received.member_id == member.id


async def test_a_rolled_back_transaction_publishes_nothing(app):
    """An exception in the block rolls the writes back and drops the queued events."""
    member = await create_member()
    bus = events.get_bus()

    async with bus.subscribe(member.id) as stream:
        with pytest.raises(LookupError):
            await _queue_then_fail(member.id)
        await bus.publish(events.card_status_changed(member_id=member.id, card_id=7))
        received = await anext(stream)

    assert received.kind is events.EventKind.CARD_STATUS_CHANGED
    assert stream._queue.empty()


async def _queue_then_fail(member_id: int) -> None:
    async with events.transaction():
        events.publish_after_commit(events.points_balance_changed(member_id))
        raise LookupError


async def test_a_nested_transaction_publishes_with_the_outer_one(app):
    """Events of an inner transaction() wait for the outermost commit, once each."""
    member = await create_member()
    bus = events.get_bus()

    async with bus.subscribe(member.id) as stream:
        async with events.transaction():
            async with events.transaction():
                events.publish_after_commit(events.points_balance_changed(member.id))
            events.publish_after_commit(events.points_balance_changed(member.id))
            undelivered_after_inner = stream._queue.empty()
        received = await anext(stream)

    assert undelivered_after_inner
    assert received.member_id == member.id
    assert stream._queue.empty()


async def test_publishing_after_commit_outside_a_transaction_is_a_programming_error(app):
    """publish_after_commit() without transaction() raises instead of publishing too early."""

    with pytest.raises(RuntimeError, match="transaction"):
        events.publish_after_commit(events.points_balance_changed(1))


async def test_events_transaction_refuses_to_nest_in_a_bare_in_transaction(app):
    """Inside a plain in_transaction() the commit is not ours to see, so it refuses."""

    with pytest.raises(RuntimeError, match="in_transaction"):
        async with in_transaction(), events.transaction():
            pass


def test_an_event_survives_its_wire_format():
    """to_json/from_json round-trip every field."""
    event = events.session_revoked(member_id=5, session_id=9)

    decoded = events.Event.from_json(event.to_json())

    assert decoded == event


@pytest.mark.postgres_only
async def test_an_event_published_by_one_process_reaches_subscribers_of_another():
    """Two Redis buses (as in two processes) on one channel: one publishes, the other delivers."""
    channel = f"bff:test:{uuid.uuid4().hex}"
    publisher, listener = RedisEventBus(REDIS_URL, channel), RedisEventBus(REDIS_URL, channel)
    await publisher.start()
    await listener.start()

    try:
        async with listener.subscribe(42) as stream, publisher.subscribe(42) as own:
            await publisher.publish(events.points_balance_changed(42))
            async with asyncio.timeout(5):
                remote, local = await anext(stream), await anext(own)
    finally:
        await publisher.stop()
        await listener.stop()

    assert remote == local == events.points_balance_changed(42)


@pytest.mark.postgres_only
async def test_the_redis_bus_resubscribes_after_losing_its_connection():
    """Redis drops the listener's connection; the bus reconnects and delivers again."""
    channel, name = f"bff:test:{uuid.uuid4().hex}", f"bff-test-{uuid.uuid4().hex[:12]}"
    listener = RedisEventBus(REDIS_URL, channel, client_name=name)
    publisher = RedisEventBus(REDIS_URL, channel)
    admin = redis.from_url(REDIS_URL)
    await listener.start()
    await publisher.start()

    try:
        killed = [c["id"] for c in await admin.client_list(_type="pubsub") if c["name"] == name]
        for client_id in killed:
            await admin.client_kill_filter(_id=client_id)
        async with listener.subscribe(7) as stream:
            received = await _publish_until_delivered(publisher, stream)
    finally:
        await publisher.stop()
        await listener.stop()
        await admin.aclose()

    assert len(killed) == 1
    assert received == events.points_balance_changed(7)


async def _publish_until_delivered(bus, stream):
    """Publish every 0.2 s (at most 100 times) until the stream delivers; pub/sub drops what
    is published while the listener reconnects."""
    for _ in range(100):
        await bus.publish(events.points_balance_changed(7))
        try:
            async with asyncio.timeout(0.2):
                return await anext(stream)
        except TimeoutError:
            continue
    pytest.fail("the bus never delivered again")
