"""A real client: the `graphql-ws` npm package (clients/node-ws) subscribes to the balance."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from tests.factories import signed_in_member
from tests.loyalty.store import buy
from tests.realtime.test_subscriptions import linked_card

NODE_CLIENT = Path(__file__).resolve().parents[2] / "clients" / "node-ws"


@pytest.fixture(scope="session")
def node_client() -> Path:
    """clients/node-ws with its pinned packages (`npm ci` there when they are missing)."""
    if not (NODE_CLIENT / "node_modules" / "graphql-ws").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],  # noqa: S607 (npm from PATH, as a developer runs it)
            cwd=NODE_CLIENT,
            check=True,
            timeout=300,
        )
    return NODE_CLIENT


async def test_the_graphql_ws_npm_client_receives_the_new_balance_after_a_purchase(
    client, settings, live_url, node_client
):
    """graphql-ws gets the current balance, then the one a till purchase made, and checks it."""
    member, token = await signed_in_member()
    number, _ = await linked_card(client, settings, member)
    expected = {"available": 0, "pending": 12, "lifetimeEarned": 12}
    process = await asyncio.create_subprocess_exec(
        "node",
        "watch-balance.mjs",
        live_url,
        token,
        "2",
        json.dumps(expected),
        cwd=node_client,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None

    async with asyncio.timeout(30):
        initial = json.loads(await process.stdout.readline())
        await buy(client, number, "125.00")
        out, err = await process.communicate()

    assert process.returncode == 0, err.decode()
    assert initial["pending"] == 0
    assert json.loads(out)["pending"] == 12
