"""GraphQL types of offers."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Self, cast

import strawberry

from bff.graphql.context import Info
from bff.graphql.errors import UserError
from bff.graphql.loyalty.loaders import TierByMemberIdLoader

# The GraphQL enum decorates the domain's class in place: annotations name the class.
from bff.graphql.loyalty.types import TierCode as _GraphQLTierCode  # noqa: F401 (registers it)
from bff.graphql.node import register_node
from bff.graphql.offers.loaders import (
    OfferActivatedByMemberAndOfferLoader,
    OffersPageByKeyLoader,
    OffersPageKey,
    OfferUsedAtByMemberAndOfferLoader,
    VisibleOfferByViewerAndIdLoader,
)
from bff.graphql.relay import Connection, Node, build_connection, make_page, node_id, selects
from bff.identity.models import Member, ProgramStatus
from bff.loyalty.tiers import TierCode, visible_tier_codes
from bff.offers import models
from bff.offers.services import OfferFilter, Viewer


@strawberry.enum
class OfferKind(Enum):
    PUBLIC = "PUBLIC"
    EXCLUSIVE = strawberry.enum_value("EXCLUSIVE", description="Program members (ENROLLED) only.")
    PERSONAL = strawberry.enum_value("PERSONAL", description="Targeted at one member.")


@strawberry.type
class Offer(Node):
    pk: strawberry.Private[int]
    id: strawberry.ID
    title: str
    description: str
    discount_percent: int | None
    valid_from: datetime
    valid_until: datetime
    exclusive: bool = strawberry.field(
        description="Only program members (ENROLLED) see and activate exclusive offers."
    )
    kind: OfferKind
    minimum_tier: TierCode | None = strawberry.field(
        description="Lowest tier that may see and activate it; null for every tier."
    )
    # Whether the caller activated it, when the connection that made it read that already.
    known_activated: strawberry.Private[bool | None] = None

    @classmethod
    def from_model(cls, offer: models.Offer, *, activated: bool | None = None) -> Self:
        return cls(
            pk=offer.id,
            id=node_id("Offer", offer.id),
            title=offer.title,
            description=offer.description,
            discount_percent=offer.discount_percent,
            valid_from=offer.valid_from,
            valid_until=offer.valid_until,
            exclusive=offer.exclusive,
            kind=OfferKind(offer.kind.value),
            minimum_tier=TierCode(offer.minimum_tier) if offer.minimum_tier else None,
            known_activated=activated,
        )

    @strawberry.field(
        description="Whether the caller has activated it; false for anonymous callers."
    )
    def activated(self, info: Info) -> bool:
        # Synchronous when the connection read it with its page (no task, no loader round);
        # otherwise an awaitable, which graphql-core awaits like an async resolver's.
        if self.known_activated is not None:
            return self.known_activated
        return cast("bool", self._load_activated(info))

    async def _load_activated(self, info: Info) -> bool:
        member = await info.context.member()
        if member is None:
            return False
        return await info.context.loader(OfferActivatedByMemberAndOfferLoader).load(
            (member.id, self.pk)
        )

    @strawberry.field(
        description="When a till applied it for the caller; null when unused or anonymous."
    )
    async def used_at(self, info: Info) -> datetime | None:
        member = await info.context.member()
        if member is None:
            return None
        return await info.context.loader(OfferUsedAtByMemberAndOfferLoader).load(
            (member.id, self.pk)
        )


@strawberry.type
class OfferPayload:
    offer: Offer | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def tiers_of(info: Info, member: Member | None) -> frozenset[str]:
    """The minimum tiers the member's current tier satisfies (none unless enrolled)."""
    if member is None or member.program_status is not ProgramStatus.ENROLLED:
        return frozenset()
    status = await info.context.loader(TierByMemberIdLoader).load(member.id)
    return visible_tier_codes(status.tier.code)


async def viewer_of(info: Info, member: Member | None) -> Viewer:
    return Viewer.of(member, tiers=await tiers_of(info, member))


async def offers_connection(
    info: Info,
    *,
    viewer: Viewer,
    public_only: bool,
    first: int | None,
    after: str | None,
    narrow: OfferFilter | None = None,
) -> Connection[Offer]:
    """Offers `viewer` may see now, soonest-ending first."""
    page = make_page(first, after, max_page_size=info.context.settings.max_page_size)
    key = OffersPageKey(
        viewer=viewer,
        public_only=public_only,
        first=page.first,
        after=page.after,
        narrow=narrow,
    )
    rows = await info.context.loader(OffersPageByKeyLoader).load(key)
    shown = rows[: page.first]
    activated: list[bool] | list[None] = [None] * len(shown)
    if shown and selects(info, "edges", "node", "activated"):
        # The page's activations in one load (the statement the nodes' loads would batch into).
        member = await info.context.member()
        activated = (
            [False] * len(shown)
            if member is None
            else await info.context.loader(OfferActivatedByMemberAndOfferLoader).load_many(
                [(member.id, row.id) for row in shown]
            )
        )
    return build_connection(
        [Offer.from_model(row, activated=seen) for row, seen in zip(shown, activated, strict=True)]
        + [Offer.from_model(row) for row in rows[page.first :]],
        [(row.valid_until, row.id) for row in rows],
        page=page,
    )


async def offer_node(info: Info, pk: int) -> Offer | None:
    viewer = await viewer_of(info, await info.context.member())
    offer = await info.context.loader(VisibleOfferByViewerAndIdLoader).load((viewer, pk))
    return Offer.from_model(offer) if offer else None


register_node("Offer", offer_node)
