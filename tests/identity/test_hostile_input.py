"""Hostile strings (NUL bytes, unpaired surrogates, huge values) never give a 500.

NUL bytes and unpaired surrogates are refused where /graphql decodes the request (400, see
tests/platform/test_hostile_text.py); here: they never reach identity, and what does reach it
(huge values, overflowing ids, control characters in headers) gets userErrors.

PostgreSQL refuses NUL bytes in text, Tortoise refuses values longer than a column, and JSON can
carry unpaired surrogates ("\\ud800") that UTF-8 encoding refuses.
"""

from __future__ import annotations

import base64
import json

import pytest

from bff.identity.models import ThrottleCounter
from bff.ids import to_global_id
from tests.identity.conftest import PASSWORD, login
from tests.identity.test_two_factor import enable_two_factor

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password, sessionTransport: BEARER}) {
    token twoFactorChallenge userErrors { field code message }
  }
}
"""
REGISTER = """
mutation Register($password: String!) {
  register(input: {email: "olga@example.com", password: $password, firstName: "Olga",
                   lastName: "Ivanova", acceptTerms: true, sessionTransport: BEARER}) {
    token userErrors { field code message }
  }
}
"""
CHANGE_PASSWORD = """
mutation Change($current: String!) {
  changePassword(input: {currentPassword: $current, newPassword: "amber-walrus-glacier-piano"}) {
    userErrors { field code }
  }
}
"""
CLOSE = """
mutation Close($password: String!) {
  closeAccount(input: {password: $password}) { ok userErrors { field code } }
}
"""
VERIFY = """
mutation Verify($challenge: String!, $code: String!) {
  verifyTwoFactor(input: {challenge: $challenge, code: $code}) { token userErrors { field code } }
}
"""
DISABLE = """
mutation Disable($code: String!) {
  disableTwoFactor(input: {password: "violet-tractor-orbit-lantern", code: $code}) {
    userErrors { field code }
  }
}
"""
REVOKE = """
mutation Revoke($id: ID!) {
  revokeSession(input: {sessionId: $id}) { userErrors { field code } }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { id } }"
SESSIONS = "query { me { sessions { userAgent } } }"
SURROGATE = "\ud800"
BEYOND_BIGINT = base64.urlsafe_b64encode(b"Session:9223372036854775808").decode().rstrip("=")


async def post(client, query, variables, *, token=None, headers=None):
    """POST with every non-ASCII character escaped, as a JSON client may send a lone surrogate."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables}, ensure_ascii=True)
    response = await client.post("/graphql", content=body, headers=sent)
    assert response.status_code == 200
    return response.json()


async def post_refused(client, query, variables, *, token=None):
    """POST like `post`; the request is refused at the door (400) and counts no attempt."""
    sent = {"Content-Type": "application/json"}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables}, ensure_ascii=True)
    response = await client.post("/graphql", content=body, headers=sent)
    assert response.status_code == 400
    assert "data" not in response.json()
    return response.json()["errors"][0]["message"]


async def test_a_login_with_a_100k_character_email_answers_like_an_unknown_email(client, member):
    """The same INVALID_CREDENTIALS as any unknown email, and no unexpected error."""
    unknown = await post(client, LOGIN, {"email": "nobody@example.com", "password": PASSWORD})

    body = await post(
        client, LOGIN, {"email": "a" * 100_000 + "@example.com", "password": PASSWORD}
    )

    assert body == unknown
    assert body["data"]["login"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


@pytest.mark.parametrize(
    "email",
    ["anna\x00@example.com", f"anna{SURROGATE}@example.com", "\x00"],
    ids=["nul-byte", "unpaired-surrogate", "only-nul"],
)
async def test_a_login_with_a_nul_or_unpaired_surrogate_is_refused_before_it_counts(
    client, member, email
):
    """/graphql refuses such text where it decodes the request (400): no lookup, no attempt."""

    message = await post_refused(client, LOGIN, {"email": email, "password": PASSWORD})

    assert message.startswith("The GraphQL operation's `variables` contains")
    assert await ThrottleCounter.all().count() == 0


async def test_a_password_with_an_unpaired_surrogate_is_refused_at_the_door(client, member):
    """Registration and login alike: 400, and the member's account counts no failure."""
    password = f"violet-tractor-orbit-{SURROGATE}-lantern"

    registered = await post_refused(client, REGISTER, {"password": password})
    signed_in = await post_refused(client, LOGIN, {"email": member.email, "password": password})

    assert "unpaired UTF-16 surrogate" in registered
    assert "unpaired UTF-16 surrogate" in signed_in
    assert await ThrottleCounter.all().count() == 0


async def test_re_authentication_with_a_nul_or_unpaired_surrogate_is_refused(client, member):
    """changePassword and closeAccount never see it; the session and the account live on."""
    token = (await login(client, member.email))["token"]

    await post_refused(client, CHANGE_PASSWORD, {"current": SURROGATE}, token=token)
    await post_refused(client, CLOSE, {"password": f"x{SURROGATE}\x00"}, token=token)

    body = await post(client, SESSIONS, {}, token=token)
    assert len(body["data"]["me"]["sessions"]) == 1


async def test_a_hostile_challenge_or_code_is_refused_and_the_challenge_still_works(client, member):
    """Unpaired surrogates and NUL bytes in a challenge or a code never reach two-factor."""
    token = (await login(client, member.email))["token"]
    await enable_two_factor(client, token)
    challenge = (await login(client, member.email))["twoFactorChallenge"]

    await post_refused(client, VERIFY, {"challenge": SURROGATE, "code": "123456"})
    await post_refused(client, VERIFY, {"challenge": challenge, "code": f"ab{SURROGATE}\x00"})
    await post_refused(client, DISABLE, {"code": SURROGATE}, token=token)

    wrong = await post(client, VERIFY, {"challenge": challenge, "code": "000000"})
    assert wrong["data"]["verifyTwoFactor"]["userErrors"][0]["field"] == ["input", "code"]


async def test_a_session_id_beyond_the_bigint_range_is_not_found(client, member):
    """revokeSession answers NOT_FOUND and node(id) null, as for any id that names no session."""
    token = (await login(client, member.email))["token"]

    revoked = await post(client, REVOKE, {"id": BEYOND_BIGINT}, token=token)
    node = await post(client, NODE, {"id": BEYOND_BIGINT}, token=token)
    largest = await post(client, NODE, {"id": to_global_id("Session", 2**63 - 1)}, token=token)

    assert revoked["data"]["revokeSession"]["userErrors"] == [
        {"field": ["input", "sessionId"], "code": "NOT_FOUND"}
    ]
    assert node == {"data": {"node": None}}
    assert largest == {"data": {"node": None}}


async def test_control_characters_in_the_user_agent_are_not_stored(client, member):
    """A NUL byte or other control character in User-Agent is dropped from the session record."""

    payload = await login(client, member.email, headers={"User-Agent": "phone\x00/1.0\x1b"})

    body = await post(client, SESSIONS, {}, token=payload["token"])
    assert body["data"]["me"]["sessions"] == [{"userAgent": "phone/1.0"}]
