"""`Query.rewards`: the catalogue, no session needed."""

from __future__ import annotations

import strawberry

from bff.graphql.context import Info
from bff.graphql.relay import Connection
from bff.graphql.rewards.types import Reward, rewards_connection


@strawberry.type
class RewardsQuery:
    @strawberry.field(
        description=(
            "Rewards that can be bought with points, cheapest first. No session needed; "
            "affordable: true needs one."
        )
    )
    async def rewards(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        affordable: bool | None = None,
    ) -> Connection[Reward]:
        return await rewards_connection(info, affordable=bool(affordable), first=first, after=after)
