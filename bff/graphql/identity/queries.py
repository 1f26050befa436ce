"""Identity queries, and the `node` resolvers of members and sessions."""

from __future__ import annotations

import strawberry

from bff.graphql.context import Info
from bff.graphql.identity.loaders import LiveSessionsByMemberIdLoader
from bff.graphql.identity.types import Member, Session
from bff.graphql.node import register_node


@strawberry.type
class IdentityQuery:
    @strawberry.field(
        description="The signed-in member; null when the request carries no valid session."
    )
    async def me(self, info: Info) -> Member | None:
        member = await info.context.member()
        return Member.from_model(member) if member else None


async def member_node(info: Info, pk: int) -> Member | None:
    """Only the signed-in member themself."""
    member = await info.context.member()
    return Member.from_model(member) if member is not None and member.id == pk else None


async def session_node(info: Info, pk: int) -> Session | None:
    """One of the caller's own live sessions; None for anyone else's."""
    current = await info.context.session()
    if current is None:
        return None
    for row in await info.context.loader(LiveSessionsByMemberIdLoader).load(current.member_id):
        if row.id == pk:
            return Session.from_model(row, current_session_id=current.id)
    return None


register_node("Member", member_node)
register_node("Session", session_node)
