"""`Query.node`: any object the caller may see, by global id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from bff.graphql.context import Info
from bff.graphql.relay import Node
from bff.ids import from_global_id

# type name -> resolver(info, pk) returning the node, or None when the caller may not see it.
NodeResolver = Callable[[Info, int], Awaitable[Node | None]]
NODE_RESOLVERS: dict[str, NodeResolver] = {}


def register_node(type_name: str, resolver: NodeResolver) -> None:
    NODE_RESOLVERS[type_name] = resolver


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description=(
            "Any object the caller may see, by global id; null for unknown ids and for objects "
            "of other members."
        )
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:  # noqa: A002 (contract)
        decoded = from_global_id(id)
        if decoded is None:
            return None
        resolver = NODE_RESOLVERS.get(decoded[0])
        return await resolver(info, decoded[1]) if resolver else None
