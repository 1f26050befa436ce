"""Identity queries."""

from __future__ import annotations

import strawberry

from bff.graphql.context import Info
from bff.graphql.identity.types import Member


@strawberry.type
class IdentityQuery:
    @strawberry.field(
        description="The signed-in member; null when the request carries no valid session."
    )
    async def me(self, info: Info) -> Member | None:
        member = await info.context.member()
        return Member.from_model(member) if member else None
