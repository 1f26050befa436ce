"""`Query.offers`: the public offers, no session needed."""

from __future__ import annotations

import strawberry

from bff.graphql.context import Info
from bff.graphql.offers.types import Offer, offers_connection
from bff.graphql.relay import Connection
from bff.offers.services import Viewer


@strawberry.type
class OffersQuery:
    @strawberry.field(
        description=(
            "Offers open to everyone (not exclusive, not targeted), soonest-ending first. "
            "No session needed."
        )
    )
    async def offers(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Offer]:
        viewer = Viewer.of(await info.context.member())
        return await offers_connection(
            info, viewer=viewer, public_only=True, first=first, after=after
        )
