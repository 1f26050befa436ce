"""Loaders of the profile relations of a member."""

from __future__ import annotations

from bff.graphql.loaders import Loader
from bff.profile.models import Preferences


class PreferencesByMemberIdLoader(Loader[int, Preferences | None]):
    """Each member's preferences row; None for a member who never changed a switch."""

    async def batch_load_fn(self, member_ids: list[int]) -> list[Preferences | None]:
        rows = {row.member_id: row for row in await Preferences.filter(member_id__in=member_ids)}
        return [rows.get(member_id) for member_id in member_ids]
