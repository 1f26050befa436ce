"""Who a websocket belongs to, and ending it when their session ends."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket, WebSocketState

from bff.graphql.session import session_token
from bff.identity.sessions import authenticate_token

if TYPE_CHECKING:
    from bff.graphql.context import Context
    from bff.identity.sessions import Authentication

logger = logging.getLogger("bff.graphql.realtime")

# Closing codes, from the graphql-transport-ws range Strawberry uses: 4403 is also what it sends
# when `on_ws_connect` refuses a connection.
SESSION_ENDED = 4403


async def authenticate_connection(context: Context) -> Authentication | None:
    """Look the connection's session up again and make it the connection's authentication."""
    token = session_token(context)
    authentication = (
        await authenticate_token(token, settings=context.settings) if token is not None else None
    )
    context.remember_authentication(authentication)
    return authentication


async def close_connection(context: Context, *, code: int, reason: str) -> None:
    """Close the websocket once, whichever of its subscriptions asks first."""
    websocket = context.request
    if not isinstance(websocket, WebSocket):
        return
    if websocket.application_state is WebSocketState.CONNECTED:
        logger.info("closing websocket: %s", reason)
        await websocket.close(code=code, reason=reason)
