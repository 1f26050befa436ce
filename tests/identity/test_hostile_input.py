"""Hostile strings (NUL bytes, unpaired surrogates, huge values) get userErrors, never a 500.

PostgreSQL refuses NUL bytes in text, Tortoise refuses values longer than a column, and JSON can
carry unpaired surrogates ("\\ud800") that UTF-8 encoding refuses.
"""

from __future__ import annotations

import base64
import json

import pytest

from bff.graphql.relay import to_global_id
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


@pytest.mark.parametrize(
    "email",
    [
        "anna\x00@example.com",
        f"anna{SURROGATE}@example.com",
        "a" * 100_000 + "@example.com",
        "\x00",
    ],
    ids=["nul-byte", "unpaired-surrogate", "100k-characters", "only-nul"],
)
async def test_a_login_with_a_hostile_email_answers_like_an_unknown_email(client, member, email):
    """The same INVALID_CREDENTIALS as any unknown email, and no unexpected error."""
    unknown = await post(client, LOGIN, {"email": "nobody@example.com", "password": PASSWORD})

    body = await post(client, LOGIN, {"email": email, "password": PASSWORD})

    assert body == unknown
    assert body["data"]["login"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_a_password_with_an_unpaired_surrogate_is_refused_with_a_reason_and_never_matches(
    client, member
):
    """Registration says why (WEAK_PASSWORD); at login it is a wrong password like any other."""
    password = f"violet-tractor-orbit-{SURROGATE}-lantern"

    registered = await post(client, REGISTER, {"password": password})
    signed_in = await post(client, LOGIN, {"email": member.email, "password": password})

    [error] = registered["data"]["register"]["userErrors"]
    assert (error["field"], error["code"]) == (["input", "password"], "WEAK_PASSWORD")
    assert "unpaired surrogate" in error["message"]
    assert signed_in["data"]["login"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_re_authentication_with_an_unpaired_surrogate_is_a_wrong_password(client, member):
    """changePassword and closeAccount answer INVALID_CREDENTIALS on the password field."""
    token = (await login(client, member.email))["token"]

    changed = await post(client, CHANGE_PASSWORD, {"current": SURROGATE}, token=token)
    closed = await post(client, CLOSE, {"password": f"x{SURROGATE}\x00"}, token=token)

    assert changed["data"]["changePassword"]["userErrors"] == [
        {"field": ["input", "currentPassword"], "code": "INVALID_CREDENTIALS"}
    ]
    assert closed["data"]["closeAccount"] == {
        "ok": False,
        "userErrors": [{"field": ["input", "password"], "code": "INVALID_CREDENTIALS"}],
    }


async def test_a_hostile_challenge_or_code_is_an_invalid_code(client, member):
    """Unpaired surrogates and NUL bytes in a challenge or a code are INVALID_CODE on the field."""
    token = (await login(client, member.email))["token"]
    await enable_two_factor(client, token)
    challenge = (await login(client, member.email))["twoFactorChallenge"]

    bad_challenge = await post(client, VERIFY, {"challenge": SURROGATE, "code": "123456"})
    bad_code = await post(client, VERIFY, {"challenge": challenge, "code": f"ab{SURROGATE}\x00"})
    bad_disable = await post(client, DISABLE, {"code": SURROGATE}, token=token)

    assert bad_challenge["data"]["verifyTwoFactor"]["userErrors"] == [
        {"field": ["input", "challenge"], "code": "INVALID_CODE"}
    ]
    assert bad_code["data"]["verifyTwoFactor"]["userErrors"] == [
        {"field": ["input", "code"], "code": "INVALID_CODE"}
    ]
    assert bad_disable["data"]["disableTwoFactor"]["userErrors"] == [
        {"field": ["input", "code"], "code": "INVALID_CODE"}
    ]


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
