"""Resolvers of `Member`'s profile fields (preferences, the data export), declared on `Member`
in graphql/identity/types.py."""

from __future__ import annotations

from strawberry.scalars import JSON

from bff.graphql.context import Info
from bff.graphql.profile.loaders import PreferencesByMemberIdLoader
from bff.graphql.profile.types import Preferences
from bff.graphql.relay import HasPk


async def preferences(root: HasPk, info: Info) -> Preferences:
    row = await info.context.loader(PreferencesByMemberIdLoader).load(root.pk)
    return Preferences.from_model(row)


async def data_export(root: HasPk, info: Info) -> JSON | None:
    """Only the signed-in member's own (IsMember); null on anyone else's `Member`."""
    from bff.profile.export import export_member_data  # noqa: PLC0415 (loads loyalty models)

    member = info.context.signed_in_member
    if member.id != root.pk:
        return None
    return JSON(await export_member_data(member_id=member.id))
