"""The mobile app's whole journey as a headless client: bearer tokens, every operation sent by its
hash from clients/manifest.json, subscriptions over graphql-transport-ws, against a real server in
the production hardening TRUSTED_DOCUMENTS_ONLY=true."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pyotp
import pytest

from bff.app import build_app
from bff.graphql.persisted import REPOSITORY
from tests.conftest import INTERNAL_API_KEY, make_settings
from tests.realtime.conftest import serving
from tests.realtime.wsclient import GraphQLWebSocket, graphql_ws

PASSWORD = "correct horse battery staple"
MANIFEST = {
    operation["name"]: operation
    for operation in json.loads((REPOSITORY / "clients" / "manifest.json").read_text())[
        "operations"
    ]
}


class MobileApp:
    """What the app does on the wire: a hash and variables per operation, the bearer token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.token: str | None = None

    async def send(self, name: str, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        extensions = {"persistedQuery": {"version": 1, "sha256Hash": MANIFEST[name]["id"]}}
        response = await self.http.post(
            "/graphql",
            json={"operationName": name, "variables": variables, "extensions": extensions},
            headers=headers,
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def store(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(
            f"/internal/v1/{path}", json=body, headers={"X-Api-Key": INTERNAL_API_KEY}
        )
        assert response.status_code in {200, 201}, response.text
        answer: dict[str, Any] = response.json()
        return answer


@pytest.fixture
async def trusted_server(app, database_url) -> AsyncIterator[str]:
    """A real uvicorn server of the app with the committed manifest as the only documents."""
    settings = make_settings(database_url, trusted_documents_only=True)
    async with serving(build_app(settings)) as ws_url:
        yield ws_url


async def next_data(ws: GraphQLWebSocket) -> dict[str, Any]:
    async with asyncio.timeout(10):
        message = await ws.receive()
    assert message["type"] == "next", message
    data: dict[str, Any] = message["payload"]["data"]
    return data


async def test_the_mobile_app_runs_its_whole_journey_with_trusted_documents_only(  # noqa: PLR0915 (one journey)
    trusted_server,
):
    """Sign up (in English), link a card, watch points arrive live, block and unblock the card,
    the tier rising live, the program, a digital card, offers, notification switches, the
    language, opt-out refused, two-factor sign-in, close the account."""
    base = trusted_server.replace("ws://", "http://").removesuffix("/graphql")
    async with httpx.AsyncClient(base_url=base) as http:
        app = MobileApp(http)
        registered = await app.send(
            "MobileRegister",
            input={
                "email": "mobile@example.com",
                "password": PASSWORD,
                "firstName": "Mira",
                "lastName": "Mobile",
                "acceptTerms": True,
                "sessionTransport": "BEARER",
                "language": "EN",
            },
        )
        assert registered["register"]["userErrors"] == []
        assert registered["register"]["member"]["language"] == "EN"
        app.token = registered["register"]["token"]

        card = await app.store("cards", {})
        linked = await app.send(
            "MobileLinkCard", number=card["number"], verificationCode=card["verificationCode"]
        )
        card_id = linked["linkCard"]["card"]["id"]
        assert linked["linkCard"]["card"]["status"] == "ACTIVE"

        auth = {"authorization": f"Bearer {app.token}"}
        async with graphql_ws(trusted_server) as ws:
            assert (await ws.init(auth))["type"] == "connection_ack"
            await ws.subscribe("points", MANIFEST["MobilePointsBalanceChanged"]["body"])
            assert (await next_data(ws))["pointsBalanceChanged"]["pending"] == 0
            await app.store(
                "purchases",
                {
                    "receiptId": "M-1",
                    "cardNumber": card["number"],
                    "storeId": "s1",
                    "total": "500.00",
                },
            )
            assert (await next_data(ws))["pointsBalanceChanged"]["pending"] == 50

            await ws.subscribe("cards", MANIFEST["MobileCardStatusChanged"]["body"])
            await asyncio.sleep(0.2)  # the subscription is set up before the change
            await app.send("MobileDeactivateCard", cardId=card_id)
            assert (await next_data(ws))["cardStatusChanged"] == {
                "id": card_id,
                "status": "INACTIVE",
                "__typename": "Card",
            }
        reactivated = await app.send("MobileActivateCard", cardId=card_id)
        assert reactivated["activateCard"]["card"]["status"] == "ACTIVE"

        home = await app.send("MobileHome")
        assert [c["id"] for c in home["me"]["cards"]] == [card_id]
        detail = await app.send("MobileCardDetail", id=card_id)
        assert len(detail["node"]["transactions"]["edges"]) == 1
        history = await app.send("MobilePointsHistory")
        assert history["me"]["pointsHistory"]["edges"][0]["node"]["amount"] == 50

        # The tier badge rises live when a till records enough spend; the program screen.
        async with graphql_ws(trusted_server) as ws:
            assert (await ws.init(auth))["type"] == "connection_ack"
            await ws.subscribe("tier", MANIFEST["MobileTierChanged"]["body"])
            await asyncio.sleep(0.2)  # the subscription is set up before the purchase
            await app.store(
                "purchases",
                {
                    "receiptId": "M-2",
                    "cardNumber": card["number"],
                    "storeId": "s1",
                    "total": "150000.00",
                },
            )
            risen = (await next_data(ws))["tierChanged"]
        assert (risen["tier"]["code"], risen["nextTier"]["name"]) == ("SILVER", "Gold")
        program = await app.send("MobileProgram")
        assert [tier["code"] for tier in program["program"]["tiers"]] == ["BLUE", "SILVER", "GOLD"]
        assert program["me"]["tier"]["tier"]["code"] == "SILVER"

        # A digital card: linked and active at once; the app draws its barcode.
        digital = (await app.send("MobileRequestDigitalCard"))["requestDigitalCard"]["card"]
        assert (digital["kind"], digital["status"]) == ("DIGITAL", "ACTIVE")
        assert digital["barcode"] == digital["number"]

        offer = await app.store(
            "offers",
            {
                "title": "Coffee",
                "description": "10% off",
                "validFrom": "2020-01-01T00:00:00Z",
                "validUntil": "2099-01-01T00:00:00Z",
            },
        )
        activated = await app.send("MobileActivateOffer", offerId=offer["id"])
        assert activated["activateOffer"]["offer"]["activated"] is True

        switched = await app.send("MobileUpdatePreferences", input={"marketingBySms": True})
        assert switched["updatePreferences"]["member"]["preferences"]["marketingBySms"] is True
        russian = await app.send("MobileSetLanguage", language="RU")
        assert russian["updateProfile"]["member"]["language"] == "RU"

        refused = await app.send("MobileOptOut", password=PASSWORD)
        assert [e["code"] for e in refused["optOut"]["userErrors"]] == ["CARDS_STILL_LINKED"]

        # Two-factor turned on (the portal's operations), then the app signs in with it.
        setup = await app.send("WebStartTwoFactorSetup")
        code = totp_now(setup["startTwoFactorSetup"]["secret"])
        confirmed = await app.send("WebConfirmTwoFactorSetup", code=code)
        recovery_codes = confirmed["confirmTwoFactorSetup"]["recoveryCodes"]
        assert (await app.send("MobileLogout"))["logout"]["ok"] is True
        app.token = None
        login = await app.send("MobileLogin", email="mobile@example.com", password=PASSWORD)
        assert login["login"]["token"] is None
        verified = await app.send(
            "MobileVerifyTwoFactor",
            challenge=login["login"]["twoFactorChallenge"],
            code=recovery_codes[0],
        )
        app.token = verified["verifyTwoFactor"]["token"]
        assert verified["verifyTwoFactor"]["member"]["firstName"] == "Mira"

        closed = await app.send("MobileCloseAccount", password=PASSWORD)
        assert closed["closeAccount"]["ok"] is True
        assert (await app.send("MobileHome"))["me"] is None

        # Anything outside the manifest is refused on the same server.
        free_text = await http.post("/graphql", json={"query": "{ me { id } }"})
        assert free_text.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()
