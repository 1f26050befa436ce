"""The bell: a member's notifications, newest first, the unread count, marking them read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from tortoise.functions import Count

from bff.db.paging import keyset_page
from bff.outbox.models import Notification


async def unread_counts(member_ids: Sequence[int]) -> dict[int, int]:
    rows = await (
        Notification.filter(member_id__in=list(member_ids), read_at__isnull=True)
        .annotate(unread=Count("id"))
        .group_by("member_id")
        .values_list("member_id", "unread")
    )
    counts = {int(member_id): int(unread) for member_id, unread in rows}
    return {member_id: counts.get(member_id, 0) for member_id in member_ids}


async def notifications_page(
    *, member_id: int, first: int, after: tuple[str, int] | None
) -> list[Notification]:
    """`first + 1` notifications newest first, after a (createdAt, id) cursor position."""
    return await keyset_page(
        Notification.filter(member_id=member_id),
        field="created_at",
        after=after,
        first=first,
        descending=True,
    )


async def mark_read(*, member_id: int, ids: Sequence[int] | None) -> int:
    """Mark the member's notifications read (all of them when `ids` is None); others' ids are
    ignored. Returns how many changed."""
    query = Notification.filter(member_id=member_id, read_at__isnull=True)
    if ids is not None:
        query = query.filter(id__in=list(ids))
    return await query.update(read_at=datetime.now(UTC))
