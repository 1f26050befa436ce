"""A small graphql-transport-ws client for tests (the `websockets` library underneath)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"


class GraphQLWebSocket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await self.connection.recv())
        return message

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send connection_init and return the server's answer (connection_ack when accepted)."""
        await self.send({"type": "connection_init", "payload": payload or {}})
        return await self.receive()

    async def subscribe(
        self, operation_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        await self.send(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    async def close_code(self) -> int | None:
        """Wait for the server to close the socket; its close code."""
        await self.connection.wait_closed()
        return self.connection.close_code


@asynccontextmanager
async def graphql_ws(
    url: str, *, headers: dict[str, str] | None = None, origin: str | None = None
) -> AsyncIterator[GraphQLWebSocket]:
    async with connect(
        url,
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        additional_headers=headers or {},
        origin=origin,  # type: ignore[arg-type]
        open_timeout=10,
    ) as connection:
        yield GraphQLWebSocket(connection)


@asynccontextmanager
async def signed_in_ws(url: str, token: str) -> AsyncIterator[GraphQLWebSocket]:
    """A connection acknowledged with the bearer token in its connection_init payload."""
    async with graphql_ws(url) as ws:
        ack = await ws.init({"authorization": f"Bearer {token}"})
        assert ack["type"] == "connection_ack", ack
        yield ws
