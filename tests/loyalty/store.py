"""The store systems' side of the tests: issuing cards and sending receipts through /internal/v1."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from tests.conftest import INTERNAL_API_KEY

STORE_HEADERS = {"X-Api-Key": INTERNAL_API_KEY}
_receipts = itertools.count(1)


async def store_post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/internal/v1/{path}", json=body, headers=STORE_HEADERS)


async def issue_card(client: httpx.AsyncClient, **body: Any) -> tuple[str, str]:
    """A new card from the store API: (number, verification code)."""
    response = await store_post(client, "cards", body)
    assert response.status_code == 201, response.text
    issued = response.json()
    return issued["number"], issued["verificationCode"]


def receipt(card_number: str, total: str = "100.00", **extra: Any) -> dict[str, Any]:
    return {
        "receiptId": f"R-{next(_receipts)}",
        "cardNumber": card_number,
        "storeId": "store-1",
        "total": total,
        **extra,
    }


async def buy(client: httpx.AsyncClient, card_number: str, total: str = "100.00", **extra: Any):
    """Record a purchase and return the store API's answer (asserting it was recorded)."""
    response = await store_post(client, "purchases", receipt(card_number, total, **extra))
    assert response.status_code == 201, response.text
    return response.json()


async def publish_reward(
    client: httpx.AsyncClient, title: str = "Coffee", cost: int = 100, **extra: Any
) -> str:
    """A reward in the catalogue through the store API: its global id."""
    body = {"title": title, "description": f"About {title}", "cost": cost, **extra}
    response = await store_post(client, "rewards", body)
    assert response.status_code == 201, response.text
    reward_id: str = response.json()["id"]
    return reward_id
