"""Two-factor authentication: setup, login challenge, TOTP once, recovery codes once, disable."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pyotp

from bff.identity.models import Member, RecoveryCode, TwoFactorChallenge
from bff.identity.two_factor import decrypt_secret
from tests.graphql_client import gql
from tests.identity.conftest import PASSWORD, login

START = "mutation { startTwoFactorSetup { secret provisioningUri userErrors { code } } }"
CONFIRM = """
mutation Confirm($code: String!) {
  confirmTwoFactorSetup(input: {code: $code}) {
    recoveryCodes member { twoFactorEnabled } userErrors { field code }
  }
}
"""
VERIFY = """
mutation Verify($challenge: String!, $code: String!) {
  verifyTwoFactor(input: {challenge: $challenge, code: $code}) {
    member { email } token twoFactorChallenge userErrors { field code }
  }
}
"""
DISABLE = """
mutation Disable($password: String!, $code: String!) {
  disableTwoFactor(input: {password: $password, code: $code}) {
    member { twoFactorEnabled } userErrors { field code }
  }
}
"""
ME = "query { me { email twoFactorEnabled } }"


def code_at(secret, offset_steps=0):
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


async def enable_two_factor(client, token):
    """Turn 2FA on for the token's member; returns (secret, recovery codes)."""
    secret = (await gql(client, START, token=token))["data"]["startTwoFactorSetup"]["secret"]
    body = await gql(client, CONFIRM, {"code": code_at(secret)}, token=token)
    return secret, body["data"]["confirmTwoFactorSetup"]["recoveryCodes"]


async def test_setup_turns_on_only_after_a_confirming_code(client, member):
    """startTwoFactorSetup gives a secret and otpauth URI; 2FA stays off until confirmed."""
    token = (await login(client, member.email))["token"]

    started = (await gql(client, START, token=token))["data"]["startTwoFactorSetup"]
    before = (await gql(client, ME, token=token))["data"]["me"]["twoFactorEnabled"]
    wrong = await gql(client, CONFIRM, {"code": "000000"}, token=token)
    right = await gql(client, CONFIRM, {"code": code_at(started["secret"])}, token=token)

    assert started["provisioningUri"].startswith("otpauth://totp/")
    assert started["secret"] in started["provisioningUri"]
    assert before is False
    assert wrong["data"]["confirmTwoFactorSetup"]["userErrors"] == [
        {"field": ["input", "code"], "code": "INVALID_CODE"}
    ]
    confirmed = right["data"]["confirmTwoFactorSetup"]
    assert confirmed["member"] == {"twoFactorEnabled": True}
    assert len(set(confirmed["recoveryCodes"])) == 10


async def test_totp_secrets_and_recovery_codes_are_not_stored_in_clear(client, member, settings):
    """The secret is a Fernet token that decrypts with the settings' key; codes are hashes."""
    token = (await login(client, member.email))["token"]

    secret, codes = await enable_two_factor(client, token)

    stored = await Member.get(id=member.id)
    assert secret not in stored.totp_secret
    assert decrypt_secret(stored.totp_secret, settings=settings) == secret
    hashes = set(await RecoveryCode.filter(member_id=member.id).values_list("code_hash", flat=True))
    assert len(hashes) == 10
    assert not hashes & set(codes)


async def test_login_with_two_factor_returns_a_challenge_instead_of_a_session(client, member):
    """Password alone gives a challenge and no token; the code completes it."""
    token = (await login(client, member.email))["token"]
    secret, _ = await enable_two_factor(client, token)

    first = await login(client, member.email)
    done = await gql(
        client, VERIFY, {"challenge": first["twoFactorChallenge"], "code": code_at(secret, 1)}
    )

    assert first["token"] is None
    assert first["member"] is None
    assert first["twoFactorChallenge"]
    payload = done["data"]["verifyTwoFactor"]
    assert payload["userErrors"] == []
    assert (await gql(client, ME, token=payload["token"]))["data"]["me"]["email"] == member.email


async def test_a_replayed_totp_code_is_refused(client, member):
    """A code accepted once is refused the second time, also on a new challenge."""
    token = (await login(client, member.email))["token"]
    secret, _ = await enable_two_factor(client, token)
    code = code_at(secret, 1)
    first = (await login(client, member.email))["twoFactorChallenge"]
    second = (await login(client, member.email))["twoFactorChallenge"]

    accepted = await gql(client, VERIFY, {"challenge": first, "code": code})
    replayed = await gql(client, VERIFY, {"challenge": second, "code": code})

    assert accepted["data"]["verifyTwoFactor"]["userErrors"] == []
    assert replayed["data"]["verifyTwoFactor"]["userErrors"] == [
        {"field": ["input", "code"], "code": "INVALID_CODE"}
    ]


async def test_codes_two_steps_away_are_refused(client, member):
    """The window is ±1 step: a code from two steps ago does not pass."""
    token = (await login(client, member.email))["token"]
    secret, _ = await enable_two_factor(client, token)
    await Member.filter(id=member.id).update(totp_last_step=None)
    challenge = (await login(client, member.email))["twoFactorChallenge"]

    body = await gql(client, VERIFY, {"challenge": challenge, "code": code_at(secret, -2)})

    assert body["data"]["verifyTwoFactor"]["userErrors"][0]["code"] == "INVALID_CODE"


async def test_a_recovery_code_works_once(client, member):
    """A recovery code completes one login, never a second."""
    token = (await login(client, member.email))["token"]
    _, codes = await enable_two_factor(client, token)
    first = (await login(client, member.email))["twoFactorChallenge"]
    second = (await login(client, member.email))["twoFactorChallenge"]

    used = await gql(client, VERIFY, {"challenge": first, "code": codes[0].upper()})
    reused = await gql(client, VERIFY, {"challenge": second, "code": codes[0]})

    assert used["data"]["verifyTwoFactor"]["userErrors"] == []
    assert reused["data"]["verifyTwoFactor"]["userErrors"] == [
        {"field": ["input", "code"], "code": "INVALID_CODE"}
    ]


async def test_a_challenge_is_single_use_short_lived_and_keeps_its_transport(client, member):
    """A used or expired challenge is refused; a COOKIE login's challenge ends in a cookie."""
    token = (await login(client, member.email))["token"]
    _, codes = await enable_two_factor(client, token)
    cookie_challenge = (await login(client, member.email, transport="COOKIE"))["twoFactorChallenge"]
    expired = (await login(client, member.email))["twoFactorChallenge"]
    await TwoFactorChallenge.filter(used_at__isnull=True, transport="BEARER").update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )

    done = await client.post(
        "/graphql",
        json={"query": VERIFY, "variables": {"challenge": cookie_challenge, "code": codes[0]}},
    )
    again = await gql(client, VERIFY, {"challenge": cookie_challenge, "code": codes[1]})
    late = await gql(client, VERIFY, {"challenge": expired, "code": codes[2]})

    assert done.json()["data"]["verifyTwoFactor"]["token"] is None
    assert "bff_session=" in done.headers["set-cookie"]
    assert again["data"]["verifyTwoFactor"]["userErrors"][0]["field"] == ["input", "challenge"]
    assert late["data"]["verifyTwoFactor"]["userErrors"][0]["code"] == "INVALID_CODE"


async def test_wrong_codes_are_throttled(client, member, settings):
    """Past THROTTLE_MAX_FAILURES wrong codes, even the right one is refused for a while."""
    token = (await login(client, member.email))["token"]
    secret, _ = await enable_two_factor(client, token)
    challenge = (await login(client, member.email))["twoFactorChallenge"]
    for _ in range(settings.throttle_max_failures):
        await gql(client, VERIFY, {"challenge": challenge, "code": "000000"})

    body = await gql(client, VERIFY, {"challenge": challenge, "code": code_at(secret, 1)})

    assert body["data"]["verifyTwoFactor"]["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_disabling_needs_password_and_code_and_ends_other_sessions(client, member):
    """Wrong password or code is refused; with both, 2FA is off and other sessions end."""
    token = (await login(client, member.email))["token"]
    secret, _ = await enable_two_factor(client, token)
    challenge = (await login(client, member.email))["twoFactorChallenge"]
    other = (await gql(client, VERIFY, {"challenge": challenge, "code": code_at(secret, 1)}))[
        "data"
    ]["verifyTwoFactor"]["token"]

    no_password = await gql(
        client, DISABLE, {"password": "wrong-password-1234", "code": "123456"}, token=token
    )
    no_code = await gql(client, DISABLE, {"password": PASSWORD, "code": "000000"}, token=token)
    await Member.filter(id=member.id).update(totp_last_step=None)
    done = await gql(client, DISABLE, {"password": PASSWORD, "code": code_at(secret)}, token=token)

    assert no_password["data"]["disableTwoFactor"]["userErrors"][0]["code"] == (
        "INVALID_CREDENTIALS"
    )
    assert no_code["data"]["disableTwoFactor"]["userErrors"][0]["code"] == "INVALID_CODE"
    assert done["data"]["disableTwoFactor"]["member"] == {"twoFactorEnabled": False}
    assert (await gql(client, ME, token=other))["data"]["me"] is None
    assert (await login(client, member.email))["token"]
    assert await RecoveryCode.filter(member_id=member.id).count() == 0


async def test_the_same_code_sent_twice_at_once_signs_in_only_once(client, member):
    """Two concurrent verifications with one code: the conditional step update lets one win."""
    token = (await login(client, member.email))["token"]
    secret, _ = await enable_two_factor(client, token)
    code = code_at(secret, 1)
    challenges = [(await login(client, member.email))["twoFactorChallenge"] for _ in range(2)]

    results = await asyncio.gather(
        *(gql(client, VERIFY, {"challenge": c, "code": code}) for c in challenges)
    )

    tokens = [r["data"]["verifyTwoFactor"]["token"] for r in results]
    assert sum(t is not None for t in tokens) == 1


CHANGE_PASSWORD = """
mutation Change($input: ChangePasswordInput!) {
  changePassword(input: $input) { userErrors { code } }
}
"""


async def test_changing_the_password_cancels_pending_two_factor_sign_ins(client, member):
    """A challenge earned with the old password cannot become a session after the change."""
    token = (await login(client, member.email))["token"]
    secret, _ = await enable_two_factor(client, token)
    challenge = (await login(client, member.email))["twoFactorChallenge"]
    new_password = {"currentPassword": PASSWORD, "newPassword": "amber-walrus-glacier-piano"}
    await gql(client, CHANGE_PASSWORD, {"input": new_password}, token=token)

    body = await gql(client, VERIFY, {"challenge": challenge, "code": code_at(secret, 1)})

    assert body["data"]["verifyTwoFactor"]["token"] is None
    assert body["data"]["verifyTwoFactor"]["userErrors"] == [
        {"field": ["input", "challenge"], "code": "INVALID_CODE"}
    ]


async def test_one_recovery_code_sent_twice_at_once_signs_in_only_once(client, member):
    """Two concurrent verifications with one recovery code: the conditional update lets one win."""
    token = (await login(client, member.email))["token"]
    _, codes = await enable_two_factor(client, token)
    challenges = [(await login(client, member.email))["twoFactorChallenge"] for _ in range(2)]

    results = await asyncio.gather(
        *(gql(client, VERIFY, {"challenge": c, "code": codes[0]}) for c in challenges)
    )

    tokens = [r["data"]["verifyTwoFactor"]["token"] for r in results]
    assert sum(t is not None for t in tokens) == 1
    assert await RecoveryCode.filter(member_id=member.id, used_at__isnull=True).count() == 9
