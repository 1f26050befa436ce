"""login, logout and the session transports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise import connections

from bff.identity.models import Member, Session
from bff.identity.passwords import hash_password
from tests.conftest import make_settings
from tests.factories import create_member
from tests.graphql_client import gql
from tests.identity.conftest import PASSWORD, login
from tests.sql_counter import gql_with_statements

ME = "query { me { email } }"
LOGOUT = "mutation { logout { ok userErrors { code } } }"


async def test_login_with_wrong_password_is_indistinguishable_from_unknown_email(client, member):
    """Same code, message and fields for an unknown email and a wrong password."""

    unknown = await login(client, "nobody@example.com")
    wrong = await login(client, member.email, password="not-the-password-at-all")

    assert unknown == wrong
    assert wrong["userErrors"] == [
        {
            "field": None,
            "code": "INVALID_CREDENTIALS",
            "message": "The email or the password is not correct.",
        }
    ]


async def test_bearer_login_returns_a_token_once_and_it_authenticates(client, member):
    """BEARER: the token is in the payload and works in the Authorization header."""

    payload = await login(client, "  ANNA@example.com ")

    assert payload["userErrors"] == []
    assert payload["member"] == {"email": "anna@example.com"}
    me = await gql(client, ME, token=payload["token"])
    assert me["data"]["me"] == {"email": "anna@example.com"}
    assert "set-cookie" not in client.cookies


async def test_every_login_makes_a_new_session_token(client, member):
    """Two logins give two different tokens and two sessions."""

    first = await login(client, member.email)
    second = await login(client, member.email)

    assert first["token"] != second["token"]
    assert await Session.filter(member_id=member.id).count() == 2


async def test_tokens_are_stored_only_as_hashes(client, member):
    """The database never holds the token itself."""

    payload = await login(client, member.email)

    session = await Session.get(member_id=member.id)
    assert session.token_hash != payload["token"]
    assert len(payload["token"]) >= 22  # 128 bits and more in URL-safe base64


async def test_a_logged_out_token_and_cookie_are_both_dead(client, member):
    """Logout ends the session server-side: the old bearer token and cookie no longer work."""
    bearer = (await login(client, member.email))["token"]
    cookie_login = await client.post(
        "/graphql",
        json={
            "query": "mutation($i: LoginInput!) { login(input: $i) { member { email } } }",
            "variables": {"i": {"email": member.email, "password": PASSWORD}},
        },
    )
    cookie = cookie_login.cookies["bff_session"]

    await gql(client, LOGOUT, token=bearer)
    logout = await client.post("/graphql", json={"query": LOGOUT})

    assert logout.json()["data"]["logout"]["ok"] is True
    assert 'bff_session=""' in logout.headers["set-cookie"]
    client.cookies.clear()
    assert (await gql(client, ME, token=bearer))["data"]["me"] is None
    replayed = await client.post(
        "/graphql", json={"query": ME}, headers={"Cookie": f"bff_session={cookie}"}
    )
    assert replayed.json()["data"]["me"] is None


async def test_a_closed_account_cannot_log_in(client, member):
    """Login refuses a member whose account is closed."""
    await Member.filter(id=member.id).update(closed_at=datetime.now(UTC))

    payload = await login(client, member.email)

    assert payload["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_a_hash_with_older_parameters_is_upgraded_at_login(client, settings):
    """A successful login rehashes a password stored with other argon2 parameters."""
    old = make_settings(settings.database_url, argon2_time_cost=2)
    member = await create_member(password_hash=await hash_password(PASSWORD, settings=old))

    await login(client, member.email)

    await member.refresh_from_db()
    assert "t=1," in member.password_hash


async def test_an_idle_session_ends(client, member, settings):
    """A session unused for longer than the idle timeout no longer authenticates."""
    token = (await login(client, member.email))["token"]
    long_ago = datetime.now(UTC) - settings.session_idle_timeout - timedelta(minutes=1)
    await Session.filter(member_id=member.id).update(last_seen_at=long_ago)

    body = await gql(client, ME, token=token)

    assert body["data"]["me"] is None


async def test_a_request_after_a_minute_marks_the_session_seen_in_its_one_lookup_statement(
    client, member
):
    """last_seen_at moves to the request's time once a minute; on PostgreSQL the lookup and the
    update are one statement (SQLite, without data-modifying CTEs, sends the update after it)."""
    token = (await login(client, member.email))["token"]
    minutes_ago = datetime.now(UTC) - timedelta(minutes=5)
    await Session.filter(member_id=member.id).update(last_seen_at=minutes_ago)

    body, log = await gql_with_statements(client, ME, token=token)

    assert body["data"]["me"] == {"email": member.email}
    seen = (await Session.get(member_id=member.id)).last_seen_at
    assert datetime.now(UTC) - seen < timedelta(minutes=1)
    postgres = connections.get("default").capabilities.dialect == "postgres"
    assert log.count == (1 if postgres else 2)


async def test_a_request_within_the_minute_leaves_last_seen_as_it_was(client, member):
    """The lookup writes nothing while the session was seen less than a minute ago."""
    token = (await login(client, member.email))["token"]
    recently = datetime.now(UTC) - timedelta(seconds=20)
    await Session.filter(member_id=member.id).update(last_seen_at=recently)

    body, log = await gql_with_statements(client, ME, token=token)

    assert body["data"]["me"] == {"email": member.email}
    assert (await Session.get(member_id=member.id)).last_seen_at == recently
    assert log.count == 1


async def test_a_session_ends_at_its_absolute_lifetime_even_when_used(client, member, settings):
    """Sessions expire at created + SESSION_ABSOLUTE_LIFETIME whatever their activity."""
    token = (await login(client, member.email))["token"]
    session = await Session.get(member_id=member.id)
    assert session.expires_at - session.created_at == settings.session_absolute_lifetime
    await Session.filter(id=session.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))

    body = await gql(client, ME, token=token)

    assert body["data"]["me"] is None


async def test_outside_development_the_cookie_is_host_prefixed_and_secure(client_with, member):
    """Production: `__Host-bff_session`, Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain."""
    http = await client_with(bff_env="production", graphiql=False, introspection=False)

    response = await http.post(
        "/graphql",
        json={
            "query": "mutation($i: LoginInput!) { login(input: $i) { token } }",
            "variables": {"i": {"email": member.email, "password": PASSWORD}},
        },
    )

    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-bff_session=")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= attributes
    assert not any(attribute.startswith("domain") for attribute in attributes)
    assert response.json()["data"]["login"]["token"] is None
