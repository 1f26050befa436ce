"""A real BFF serving the built portal, with the production security settings (trusted documents
only, cookie sessions, CSRF checks), and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from bff.app import build_app
from bff.portal import portal_folder
from tests.conftest import make_settings
from tests.realtime.conftest import serving

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/bff-portal-screenshots"))  # noqa: S108
AXE = Path(__file__).resolve().parents[2] / "clients/web/node_modules/axe-core/axe.min.js"


@pytest.fixture(scope="session")
async def portal_url(app, database_url) -> AsyncIterator[str]:
    settings = make_settings(
        database_url,
        trusted_documents_only=True,
        graphiql=False,
        introspection=False,
        throttle_free_failures=2,
        throttle_max_failures=3,
        # The program page shows what the server states: names and benefits no client knows.
        program_name="Metropolia Club",
        tier_benefits=[["Points on every purchase"], ["Quiet hours shopping"], ["Free delivery"]],
    )
    assert portal_folder(settings) is not None, "build the portal first: make portal"
    async with serving(build_app(settings)) as ws_url:
        yield ws_url.replace("ws://", "http://").removesuffix("/graphql")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before any page)
    print(f"\nscreenshots of the portal: {SCREENSHOTS}")  # noqa: T201 (the suite says where)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        await chromium.close()
