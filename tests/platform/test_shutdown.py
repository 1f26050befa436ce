"""Graceful shutdown under uvicorn: a request in flight when the server is told to stop still gets
its answer, and open websockets are closed with 1012 ("service restart"), so clients reconnect
to another process instead of seeing an abnormal 1006."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import uvicorn

from tests.factories import signed_in_member
from tests.realtime.wsclient import signed_in_ws

BALANCE = "subscription { pointsBalanceChanged { available } }"


async def start(app) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", log_config=None, timeout_graceful_shutdown=10
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
            await asyncio.sleep(0.01)
    return server, task, server.servers[0].sockets[0].getsockname()[1]


async def test_a_slow_request_in_flight_finishes_and_websockets_close_with_1012(app):
    _, token = await signed_in_member()
    server, serving, port = await start(app)
    body_started = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }"'
        body_started.set()
        for _ in range(10):  # a second of a slow upload, spanning the shutdown
            await asyncio.sleep(0.1)
            yield b" "
        yield b"}"

    async with signed_in_ws(f"ws://127.0.0.1:{port}/graphql", token) as ws:
        await ws.subscribe("1", BALANCE)
        async with asyncio.timeout(10):
            assert (await ws.receive())["type"] == "next"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            request = asyncio.create_task(
                http.post(
                    "/graphql", content=slow_body(), headers={"Content-Type": "application/json"}
                )
            )
            await body_started.wait()
            server.should_exit = True  # what SIGTERM does
            async with asyncio.timeout(10):
                code = await ws.close_code()
                response = await request
    async with asyncio.timeout(15):
        await serving

    assert code == 1012
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}
