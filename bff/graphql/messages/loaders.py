"""Loaders of the messages relations of a member."""

from __future__ import annotations

from dataclasses import dataclass

from bff.graphql.loaders import Loader
from bff.messages.devices import live_devices
from bff.messages.models import PushDevice
from bff.messages.notifications import notifications_page, unread_counts
from bff.outbox.models import Notification


@dataclass(frozen=True)
class NotificationsPageKey:
    member_id: int
    first: int
    after: tuple[str, int] | None


class NotificationsPageByKeyLoader(Loader[NotificationsPageKey, list[Notification]]):
    """Pages of a member's notifications, newest first (one query per page)."""

    async def batch_load_fn(self, keys: list[NotificationsPageKey]) -> list[list[Notification]]:
        return [
            await notifications_page(member_id=key.member_id, first=key.first, after=key.after)
            for key in keys
        ]


class UnreadNotificationCountByMemberIdLoader(Loader[int, int]):
    """Unread notifications per member: one grouped count for every member asked."""

    async def batch_load_fn(self, member_ids: list[int]) -> list[int]:
        counts = await unread_counts(member_ids)
        return [counts[member_id] for member_id in member_ids]


class NotificationByIdLoader(Loader[int, Notification | None]):
    async def batch_load_fn(self, ids: list[int]) -> list[Notification | None]:
        found = {row.id: row for row in await Notification.filter(id__in=ids)}
        return [found.get(pk) for pk in ids]


class PushDevicesByMemberIdLoader(Loader[int, list[PushDevice]]):
    """Each member's push devices whose session still lives."""

    async def batch_load_fn(self, member_ids: list[int]) -> list[list[PushDevice]]:
        found = await live_devices(member_ids=member_ids, settings=self.settings)
        return [found[member_id] for member_id in member_ids]
