"""Loaders of the identity relations of a member."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from bff.graphql.loaders import Loader
from bff.identity.models import Session
from bff.identity.sessions import live_sessions


class LiveSessionsByMemberIdLoader(Loader[int, list[Session]]):
    """Each member's live sessions (`live_sessions`), most recently used first."""

    async def batch_load_fn(self, member_ids: list[int]) -> list[list[Session]]:
        live = live_sessions(now=datetime.now(UTC), settings=self.settings)
        rows = await Session.filter(live, member_id__in=member_ids).order_by("-last_seen_at", "-id")
        by_member: dict[int, list[Session]] = defaultdict(list)
        for row in rows:
            by_member[row.member_id].append(row)
        return [by_member[member_id] for member_id in member_ids]
