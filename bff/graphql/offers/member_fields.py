"""Resolver of `Member.offers`, declared on `Member` in graphql/identity/types.py."""

from __future__ import annotations

from bff.graphql.context import Info
from bff.graphql.offers.types import Offer, OfferKind, offers_connection, viewer_of
from bff.graphql.relay import Connection
from bff.offers import models
from bff.offers.services import OfferFilter


async def offers(
    info: Info,
    first: int | None = 20,
    after: str | None = None,
    kind: OfferKind | None = None,
    activated: bool | None = None,
) -> Connection[Offer]:
    """The offers the signed-in member (IsMember) may see; `me` and `node` show no one else."""
    viewer = await viewer_of(info, info.context.signed_in_member)
    narrow = OfferFilter(
        kind=None if kind is None else models.OfferKind(kind.value), activated=activated
    )
    return await offers_connection(
        info, viewer=viewer, public_only=False, first=first, after=after, narrow=narrow
    )
