"""Loaders of the profile relations of a member."""

from __future__ import annotations

from datetime import UTC, datetime

from bff.graphql.loaders import Loader
from bff.profile.models import Preferences


class PreferencesByMemberIdLoader(Loader[int, Preferences]):
    """Each member's preferences; the defaults (unsaved) for a member without a row."""

    async def batch_load_fn(self, member_ids: list[int]) -> list[Preferences]:
        rows = {row.member_id: row for row in await Preferences.filter(member_id__in=member_ids)}
        now = datetime.now(UTC)
        return [
            rows.get(member_id) or Preferences(member_id=member_id, updated_at=now)
            for member_id in member_ids
        ]
