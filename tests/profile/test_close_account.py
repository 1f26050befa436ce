"""closeAccount: personal data erased, sessions ended, ledger kept detached, email free again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest
from tortoise import Tortoise, connections

from bff.identity.models import Member, Session, ThrottleCounter
from bff.loyalty.models import Card, PointsEntry, Purchase
from tests.factories import create_purchase
from tests.graphql_client import gql

PASSWORD = "violet-tractor-orbit-lantern"
REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { token member { email } userErrors { field code } }
}
"""
CLOSE = """
mutation Close($password: String!) {
  closeAccount(input: {password: $password}) { ok userErrors { field code } }
}
"""
SETUP = "mutation { startTwoFactorSetup { secret } }"
PREFS = "mutation { updatePreferences(input: {marketingBySms: true}) { userErrors { code } } }"
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password, sessionTransport: BEARER}) {
    token userErrors { code }
  }
}
"""
ME = "query { me { email } }"
PERSONAL = {
    "email": "olga.closing@example.com",
    "firstName": "Olga",
    "lastName": "Zakharova",
    "phone": "+79161234567",
    "companyName": "Zakharova Wholesale Holdings",
    "taxId": "7707083893",
}


async def register(client):
    body = await gql(
        client,
        REGISTER,
        {
            "input": {
                **PERSONAL,
                "password": PASSWORD,
                "acceptTerms": True,
                "sessionTransport": "BEARER",
            }
        },
        headers={"User-Agent": "OlgasPhone/5.1"},
    )
    return body["data"]["register"]


async def every_row_as_text():
    """Every row of every table, as one lowercased string per table."""
    connection = connections.get("default")
    dump = {}
    for app_models in Tortoise.apps.values():
        for model in app_models.values():
            table = model._meta.db_table
            rows = await connection.execute_query_dict(f'SELECT * FROM "{table}"')
            dump[table] = " ".join(str(row) for row in rows).lower()
    return dump


async def test_close_account_leaves_no_personal_data_in_the_database(client):
    """After closing, no table holds the email, names, phone, company, INN or user agent."""
    registered = await register(client)
    token = registered["token"]
    member = await Member.get(email=PERSONAL["email"])
    await gql(client, SETUP, token=token)
    await gql(client, PREFS, token=token)
    card = await Card.create(number="4600000000017", code_hash="x", member=member, label="Olga's")
    now = datetime.now(UTC)
    await create_purchase(
        member=member, card=card, receipt_id="R-9", total=Decimal("50.00"), points=5, at=now
    )

    body = await gql(client, CLOSE, {"password": PASSWORD}, token=token)

    assert body["data"]["closeAccount"] == {"ok": True, "userErrors": []}
    dump = await every_row_as_text()
    for value in [*PERSONAL.values(), "olgasphone", "olga's", "+7 916"]:
        for table, text in dump.items():
            assert value.lower() not in text, (value, table)
    for table in ("session", "two_factor_challenge", "recovery_code", "consent_event"):
        assert dump[table] == "", table
    closed = await Member.get(id=member.id)
    assert closed.closed_at is not None
    assert closed.totp_pending_secret is None
    assert closed.password_hash is None
    assert await Purchase.filter(receipt_id="R-9", member_id__isnull=True).count() == 1
    assert await PointsEntry.filter(amount=5, member_id__isnull=True).count() == 1


async def test_a_closed_account_ends_its_sessions_and_refuses_logins(client):
    """The token dies at once and the old password no longer signs in."""
    token = (await register(client))["token"]

    await gql(client, CLOSE, {"password": PASSWORD}, token=token)

    assert (await gql(client, ME, token=token))["data"]["me"] is None
    login = await gql(client, LOGIN, {"email": PERSONAL["email"], "password": PASSWORD})
    assert login["data"]["login"]["userErrors"] == [{"code": "INVALID_CREDENTIALS"}]


async def test_the_same_email_can_register_again_after_closing(client):
    """Closing frees the email: a new registration with it succeeds as a new member."""
    token = (await register(client))["token"]
    await gql(client, CLOSE, {"password": PASSWORD}, token=token)

    again = await register(client)

    assert again["userErrors"] == []
    assert again["member"]["email"] == PERSONAL["email"]


async def test_closing_needs_the_password(client):
    """A wrong password keeps the account open."""
    token = (await register(client))["token"]

    body = await gql(client, CLOSE, {"password": "not-my-password-123"}, token=token)

    assert body["data"]["closeAccount"] == {
        "ok": False,
        "userErrors": [{"field": ["input", "password"], "code": "INVALID_CREDENTIALS"}],
    }
    assert (await gql(client, ME, token=token))["data"]["me"] is not None


CONFIRM_SETUP = """
mutation { confirmTwoFactorSetup(input: {code: "000000"}) { userErrors { code } } }
"""


async def test_closing_deletes_the_accounts_throttle_counters(client):
    """Counters kept by email and by member id are deleted; only the client address's stay."""
    token = (await register(client))["token"]
    client.cookies.clear()  # a stranger's device: its failure counts against the account too
    await gql(client, LOGIN, {"email": PERSONAL["email"], "password": "wrong-password-1234"})
    await gql(client, SETUP, token=token)
    await gql(client, CONFIRM_SETUP, token=token)
    counted = await ThrottleCounter.all().values_list("key", flat=True)

    await gql(client, CLOSE, {"password": PASSWORD}, token=token)

    left = await ThrottleCounter.all().values_list("key", flat=True)
    assert sum(":account:" in key for key in counted) == 2
    assert left
    assert not [key for key in left if ":account:" in key]


LOCK_WAITS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'
"""


async def until_blocked_on_a_lock(task, connection):
    """Wait until `task` is done or a statement of this database waits for a lock (up to ~10 s)."""
    for _ in range(400):
        if task.done() or await connection.fetchval(LOCK_WAITS):
            return
        await asyncio.sleep(0.025)


@pytest.mark.postgres_only
async def test_a_login_that_passes_its_checks_while_the_account_closes_gets_no_session(
    client, settings
):
    """The session is made under the member row lock, which closeAccount holds until it commits."""
    await register(client)
    member = await Member.get(email=PERSONAL["email"])
    credentials = {"email": PERSONAL["email"], "password": PASSWORD}
    closing = await asyncpg.connect(settings.database_url.replace("postgres://", "postgresql://"))

    try:
        async with closing.transaction():
            await closing.execute('SELECT 1 FROM "member" WHERE "id" = $1 FOR UPDATE', member.id)
            signing_in = asyncio.create_task(gql(client, LOGIN, credentials))
            await until_blocked_on_a_lock(signing_in, closing)
            await closing.execute(
                'UPDATE "member" SET "email" = NULL, "closed_at" = now() WHERE "id" = $1', member.id
            )
        body = await signing_in
    finally:
        await closing.close()

    assert body["data"]["login"] == {"token": None, "userErrors": [{"code": "INVALID_CREDENTIALS"}]}
    assert await Session.filter(member_id=member.id).count() == 1  # the registration's only
