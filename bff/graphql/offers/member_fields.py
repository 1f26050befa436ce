"""Resolver of `Member.offers`, declared on `Member` in graphql/identity/types.py."""

from __future__ import annotations

from bff.graphql.context import Info
from bff.graphql.offers.types import Offer, offers_connection
from bff.graphql.relay import Connection
from bff.offers.services import Viewer


async def offers(info: Info, first: int | None = 20, after: str | None = None) -> Connection[Offer]:
    """The offers the signed-in member (IsMember) may see; `me` and `node` show no one else."""
    viewer = Viewer.of(info.context.signed_in_member)
    return await offers_connection(info, viewer=viewer, public_only=False, first=first, after=after)
