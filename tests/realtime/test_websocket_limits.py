"""A websocket costs little before sign-in and bounded after: frame-size caps before and after
connection_ack, open sockets per client address, and hostile JSON in a frame closes with 4400
instead of crashing the connection (1006)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from websockets.exceptions import InvalidStatus

from bff.app import build_app
from tests.conftest import make_settings
from tests.factories import signed_in_member
from tests.realtime.conftest import serving
from tests.realtime.wsclient import graphql_ws, signed_in_ws

BALANCE = "subscription { pointsBalanceChanged { available } }"


@asynccontextmanager
async def served(settings, **overrides) -> AsyncIterator[str]:
    async with serving(build_app(make_settings(settings.database_url, **overrides))) as url:
        yield url


async def closed_with(ws) -> int | None:
    async with asyncio.timeout(10):
        return await ws.close_code()


async def test_a_large_connection_init_is_closed_with_1009_before_anything_reads_it(
    client, settings
):
    async with served(settings, ws_max_frame_bytes_before_auth=1_000) as url, graphql_ws(url) as ws:
        await ws.send({"type": "connection_init", "payload": {"pad": "x" * 5_000}})
        code = await closed_with(ws)

    assert code == 1009


async def test_after_sign_in_frames_may_be_larger_up_to_their_own_cap(client, settings):
    _, token = await signed_in_member()
    caps = {"ws_max_frame_bytes_before_auth": 1_000, "ws_max_frame_bytes": 8_000}

    async with served(settings, **caps) as url, signed_in_ws(url, token) as ws:
        await ws.subscribe("1", BALANCE + " " * 3_000)  # over the first cap, under the second
        async with asyncio.timeout(10):
            first = await ws.receive()
        await ws.subscribe("2", BALANCE + " " * 10_000)
        code = await closed_with(ws)

    assert first["type"] == "next"
    assert code == 1009


async def test_an_address_opens_at_most_its_allowance_of_sockets(client, settings):
    async with served(settings, ws_connections_per_address=3) as url, AsyncExitStack() as stack:
        for _ in range(3):
            await stack.enter_async_context(graphql_ws(url))
        with pytest.raises(InvalidStatus):
            async with graphql_ws(url):
                pass
        await stack.aclose()
        async with graphql_ws(url) as again:  # closing one frees its place
            assert again.connection.close_code is None


@pytest.mark.parametrize(
    "frame",
    ["[" * 1000 + "]" * 1000, '{"type": "connection_init", "payload": {"n": ' + "9" * 5000 + "}}"],
    ids=["deep", "huge-int"],
)
async def test_hostile_json_in_a_frame_closes_the_socket_with_4400(client, settings, frame):
    caps = {"ws_max_frame_bytes_before_auth": 100_000}
    async with served(settings, **caps) as url, graphql_ws(url) as ws:
        await ws.connection.send(frame)
        code = await closed_with(ws)

    assert code == 4400
