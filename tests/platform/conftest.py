"""Fixtures for the platform tests: apps built with other settings, and captured log lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bff.app import build_app
from bff.logging import make_handler
from bff.settings import Settings
from tests.conftest import make_settings

ClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def client_with(app: Starlette, settings: Settings) -> AsyncIterator[ClientFactory]:
    """Clients of apps built with setting overrides (production, lower limits).

    They share the test database that the session's `app` opened, so they run no lifespan.
    """
    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> httpx.AsyncClient:
            built = build_app(make_settings(settings.database_url, **overrides))
            transport = httpx.ASGITransport(app=built, client=("203.0.113.10", 50000))
            http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            return await stack.enter_async_context(http)

        yield make


class LogLines:
    """The JSON lines written by the production log handler while a test runs."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    """Attach the handler `bff serve` installs in production (JSON lines) to the root logger."""
    stream = io.StringIO()
    handler = make_handler(stream, json_lines=True)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield LogLines(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
