"""Resolvers of `Member.notifications`, `unreadNotificationCount` and `pushDevices`, declared
on `Member` in graphql/identity/types.py."""

from __future__ import annotations

from bff.graphql.context import Info
from bff.graphql.messages.loaders import (
    NotificationsPageByKeyLoader,
    NotificationsPageKey,
    PushDevicesByMemberIdLoader,
    UnreadNotificationCountByMemberIdLoader,
)
from bff.graphql.messages.types import Notification, PushDevice
from bff.graphql.relay import Connection, HasPk, build_connection, make_page


async def notifications(
    root: HasPk, info: Info, first: int | None = 20, after: str | None = None
) -> Connection[Notification]:
    page = make_page(first, after, max_page_size=info.context.settings.max_page_size)
    key = NotificationsPageKey(member_id=root.pk, first=page.first, after=page.after)
    rows = await info.context.loader(NotificationsPageByKeyLoader).load(key)
    return build_connection(
        [Notification.from_model(row) for row in rows],
        [(row.created_at, row.id) for row in rows],
        page=page,
    )


async def unread_notification_count(root: HasPk, info: Info) -> int:
    return await info.context.loader(UnreadNotificationCountByMemberIdLoader).load(root.pk)


async def push_devices(root: HasPk, info: Info) -> list[PushDevice]:
    rows = await info.context.loader(PushDevicesByMemberIdLoader).load(root.pk)
    return [PushDevice.from_model(row) for row in rows]
