"""Identity test helpers: GraphQL documents and sign-in shortcuts shared by the modules."""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
import pytest

from bff.app import build_app
from tests.conftest import make_settings
from tests.factories import create_member
from tests.graphql_client import gql

PASSWORD = "violet-tractor-orbit-lantern"

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) {
    member { email }
    token
    twoFactorChallenge
    userErrors { field code message }
  }
}
"""


async def login(client, email, password=PASSWORD, transport="BEARER", headers=None):
    """The login payload for these credentials."""
    body = await gql(
        client,
        LOGIN,
        {"input": {"email": email, "password": password, "sessionTransport": transport}},
        headers=headers,
    )
    return body["data"]["login"]


@pytest.fixture
async def member(app):
    """A member whose password is PASSWORD."""
    return await create_member(email="anna@example.com", password=PASSWORD)


@pytest.fixture
async def client_with(app, settings):
    """Clients of apps built with setting overrides, on the session's database (no lifespan)."""
    async with AsyncExitStack() as stack:

        async def make(client_address="203.0.113.10", **overrides):
            built = build_app(make_settings(settings.database_url, **overrides))
            transport = httpx.ASGITransport(app=built, client=(client_address, 50000))
            http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            return await stack.enter_async_context(http)

        yield make
