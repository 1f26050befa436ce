"""Loaders of the identity and profile relations of a member."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from aiodataloader import DataLoader

from bff.identity.models import Session
from bff.profile.models import Preferences


class LiveSessionsByMemberIdLoader(DataLoader[int, list[Session]]):
    """Unrevoked, unexpired sessions per member, most recently used first."""

    async def batch_load_fn(self, member_ids: list[int]) -> list[list[Session]]:
        rows = await Session.filter(
            member_id__in=member_ids, revoked_at__isnull=True, expires_at__gt=datetime.now(UTC)
        ).order_by("-last_seen_at", "-id")
        by_member: dict[int, list[Session]] = defaultdict(list)
        for row in rows:
            by_member[row.member_id].append(row)
        return [by_member[member_id] for member_id in member_ids]


class PreferencesByMemberIdLoader(DataLoader[int, Preferences]):
    """Each member's preferences; the defaults (unsaved) for a member without a row."""

    async def batch_load_fn(self, member_ids: list[int]) -> list[Preferences]:
        rows = {row.member_id: row for row in await Preferences.filter(member_id__in=member_ids)}
        now = datetime.now(UTC)
        return [
            rows.get(member_id) or Preferences(member_id=member_id, updated_at=now)
            for member_id in member_ids
        ]
