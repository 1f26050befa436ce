"""Resolvers of `Member`'s profile fields (preferences, the data export), declared on `Member`
in graphql/identity/types.py."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from strawberry.scalars import JSON

from bff.graphql.context import Info
from bff.graphql.profile.loaders import PreferencesByMemberIdLoader
from bff.graphql.profile.types import Preferences
from bff.graphql.relay import HasPk
from bff.profile.services import default_preferences


class MemberRoot(HasPk, Protocol):
    """`Member` as its profile fields see it: its key and when it registered."""

    @property
    def registered_at(self) -> datetime: ...


async def preferences(root: MemberRoot, info: Info) -> Preferences:
    row = await info.context.loader(PreferencesByMemberIdLoader).load(root.pk)
    if row is None:
        row = default_preferences(member_id=root.pk, registered_at=root.registered_at)
    return Preferences.from_model(row)


async def data_export(root: HasPk, info: Info) -> JSON | None:
    """Only the signed-in member's own (IsMember); null on anyone else's `Member`."""
    from bff.profile.export import export_member_data  # noqa: PLC0415 (loads loyalty models)

    member = info.context.signed_in_member
    if member.id != root.pk:
        return None
    return JSON(await export_member_data(member_id=member.id))
