"""The `/graphql` endpoint: Strawberry's ASGI view with our context."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from bff.graphql.context import Context
from bff.graphql.realtime.connection import authenticate_connection

if TYPE_CHECKING:
    import strawberry
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket

    from bff.settings import Settings


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: strawberry.Schema, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            connection_init_wait_timeout=settings.subscription_init_timeout,
            allowed_origins=settings.cors_origins,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.settings = settings

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A websocket needs a live session: the cookie, or `{"authorization": "Bearer <token>"}`
        in connection_init. Without one Strawberry closes it with 4403."""
        if await authenticate_connection(context) is None:
            raise ConnectionRejectionError
        return UnsetType()  # acknowledge with no payload

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        client = request.client
        return Context(
            request=request,
            response=response if not isinstance(response, type(request)) else None,  # type: ignore[arg-type]
            settings=self.settings,
            request_id=request.scope.get("state", {}).get("request_id", "-"),
            client_ip=client.host if client else "unknown",
        )
