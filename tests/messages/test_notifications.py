"""The bell over GraphQL: me.notifications, unreadNotificationCount, markNotificationsRead and
the notificationReceived subscription over a real websocket."""

from __future__ import annotations

import asyncio
import contextlib

from bff import events, outbox
from bff.outbox import MessageKind
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.messages.conftest import deliver_all
from tests.realtime.conftest import serving
from tests.realtime.wsclient import signed_in_ws

BELL = """
query($first: Int, $after: String) {
  me {
    unreadNotificationCount
    notifications(first: $first, after: $after) {
      edges { cursor node { id kind title body readAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
MARK = """
mutation($ids: [ID!]) {
  markNotificationsRead(input: {ids: $ids}) {
    member { unreadNotificationCount } userErrors { field code }
  }
}
"""
RECEIVED = "subscription { notificationReceived { id kind title body } }"


async def notify(member_id: int, points: int) -> None:
    async with events.transaction():
        await outbox.enqueue(
            member_id=member_id, kind=MessageKind.POINTS_CREDITED, params={"points": points}
        )


async def test_the_bell_lists_newest_first_and_pages(client, settings, tmp_path):
    """Three notices: two on the first page, the oldest on the next; all unread."""
    member, token = await signed_in_member()
    for points in (1, 2, 3):
        await notify(member.id, points)
    await deliver_all(settings.model_copy(update={"mail_url": f"file://{tmp_path}"}))

    first = (await gql(client, BELL, {"first": 2}, token=token))["data"]["me"]
    after = first["notifications"]["pageInfo"]["endCursor"]
    second = (await gql(client, BELL, {"first": 2, "after": after}, token=token))["data"]["me"]

    bodies = [edge["node"]["body"] for edge in first["notifications"]["edges"]]
    assert first["unreadNotificationCount"] == 3
    assert ["3" in bodies[0], "2" in bodies[1]] == [True, True]
    assert first["notifications"]["edges"][0]["node"]["kind"] == "POINTS_CREDITED"
    assert first["notifications"]["pageInfo"]["hasNextPage"] is True
    [oldest] = second["notifications"]["edges"]
    assert "1" in oldest["node"]["body"]
    assert second["notifications"]["pageInfo"]["hasNextPage"] is False


async def test_marking_read_by_id_and_then_all(client, settings, tmp_path):
    """Named ids first (another member's id changes nothing), then null: every one."""
    member, token = await signed_in_member()
    other, other_token = await signed_in_member()
    for points in (1, 2, 3):
        await notify(member.id, points)
    await notify(other.id, 9)
    await deliver_all(settings.model_copy(update={"mail_url": f"file://{tmp_path}"}))
    edges = (await gql(client, BELL, token=token))["data"]["me"]["notifications"]["edges"]
    theirs = (await gql(client, BELL, token=other_token))["data"]["me"]["notifications"]
    their_id = theirs["edges"][0]["node"]["id"]

    some = await gql(client, MARK, {"ids": [edges[0]["node"]["id"], their_id]}, token=token)
    everything = await gql(client, MARK, {"ids": None}, token=token)
    other_count = await gql(client, BELL, token=other_token)

    assert some["data"]["markNotificationsRead"] == {
        "member": {"unreadNotificationCount": 2},
        "userErrors": [],
    }
    assert everything["data"]["markNotificationsRead"]["member"] == {"unreadNotificationCount": 0}
    assert other_count["data"]["me"]["unreadNotificationCount"] == 1


async def test_a_malformed_notification_id_is_a_user_error(client, app):
    _, token = await signed_in_member()

    body = await gql(client, MARK, {"ids": ["not-an-id"]}, token=token)

    assert body["data"]["markNotificationsRead"]["userErrors"][0]["code"] in {
        "INVALID_INPUT",
        "NOT_FOUND",
    }


async def test_the_bell_needs_a_session(client, app):
    body = await gql(client, MARK, {"ids": None})

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_new_notice_arrives_over_the_websocket(app, settings, tmp_path):
    """The worker's dispatch announces the notification; only its member's socket gets it."""
    member, token = await signed_in_member()
    _, other_token = await signed_in_member()
    configured = settings.model_copy(update={"mail_url": f"file://{tmp_path}"})

    async with (
        serving(app) as url,
        signed_in_ws(url, token) as ws,
        signed_in_ws(url, other_token) as other_ws,
    ):
        await ws.subscribe("1", RECEIVED)
        await other_ws.subscribe("1", RECEIVED)
        async with asyncio.timeout(10):
            while events.get_bus().subscriber_count(member.id) < 1:  # noqa: ASYNC110 (a count)
                await asyncio.sleep(0.01)
        await notify(member.id, 25)
        await deliver_all(configured)
        async with asyncio.timeout(10):
            message = await ws.receive()
        with_nothing = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.3):
                with_nothing = await other_ws.receive()

    assert message["type"] == "next"
    received = message["payload"]["data"]["notificationReceived"]
    assert received["kind"] == "POINTS_CREDITED"
    assert "25" in received["body"]
    assert with_nothing is None
