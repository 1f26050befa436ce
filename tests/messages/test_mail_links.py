"""Links by mail: password reset, email verification and email change, end to end through
GraphQL, the worker and a real SMTP server."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta

from bff.identity.models import EmailToken, Member
from bff.identity.tokens import token_hash
from tests.factories import create_member, create_session
from tests.graphql_client import gql
from tests.identity.conftest import PASSWORD, login
from tests.identity.test_two_factor import enable_two_factor
from tests.messages.conftest import deliver_all, mail_settings
from tests.sql_counter import count_statements

NEW_PASSWORD = "copper-kettle-meadow-whistle"
REQUEST_RESET = """
mutation($email: String!) {
  requestPasswordReset(input: {email: $email}) { ok userErrors { field code } }
}
"""
RESET = """
mutation($token: String!, $password: String!) {
  resetPassword(input: {token: $token, newPassword: $password}) { ok userErrors { field code } }
}
"""
REQUEST_VERIFICATION = """
mutation { requestEmailVerification { member { emailVerified } userErrors { code } } }
"""
VERIFY = """
mutation($token: String!) {
  verifyEmail(input: {token: $token}) { member { email emailVerified } userErrors { field code } }
}
"""
REQUEST_CHANGE = """
mutation($email: String!, $password: String!) {
  requestEmailChange(input: {newEmail: $email, password: $password}) {
    member { email } userErrors { field code }
  }
}
"""
CONFIRM_CHANGE = """
mutation($token: String!) {
  confirmEmailChange(input: {token: $token}) {
    member { email emailVerified } userErrors { field code }
  }
}
"""
REGISTER = """
mutation($input: RegisterInput!) {
  register(input: $input) { member { emailVerified } token userErrors { code } }
}
"""
ME = "query { me { email emailVerified } }"


def text_of(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def link_token(mail) -> str:
    found = re.search(r"token=([A-Za-z0-9_-]+)", text_of(mail))
    assert found is not None
    return found.group(1)


async def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(
    client, settings, mail_server
):
    """The mailed token sets the password; it is refused the second time; old sessions end;
    the member is told by a security notice."""
    member = await create_member(email="reset@example.com", password=PASSWORD)
    old_session = await create_session(member)
    configured = mail_settings(settings, mail_server)

    asked = await gql(client, REQUEST_RESET, {"email": "Reset@Example.com"})
    await deliver_all(configured)
    [mail] = mail_server.to("reset@example.com")
    token = link_token(mail)
    first = await gql(client, RESET, {"token": token, "password": NEW_PASSWORD})
    again = await gql(client, RESET, {"token": token, "password": NEW_PASSWORD + "x"})
    await deliver_all(configured)

    assert asked["data"]["requestPasswordReset"] == {"ok": True, "userErrors": []}
    assert f"{settings.portal_url}/reset-password?token=" in mail.get_body(("plain",)).get_content()
    assert first["data"]["resetPassword"] == {"ok": True, "userErrors": []}
    assert again["data"]["resetPassword"]["userErrors"] == [
        {"field": ["input", "token"], "code": "INVALID_TOKEN"}
    ]
    assert (await gql(client, ME, token=old_session))["data"]["me"] is None
    assert (await login(client, "reset@example.com", NEW_PASSWORD))["token"]
    subjects = [mail["Subject"] for mail in mail_server.to("reset@example.com")]
    assert subjects == ["Восстановление пароля", "Пароль изменён"]


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, settings, mail_server):
    """No enumeration: the same payload and the same statements; only the known one is mailed."""
    await create_member(email="known@example.com", password=PASSWORD)

    with count_statements() as known_log:
        known = await gql(client, REQUEST_RESET, {"email": "known@example.com"})
    known_statements = list(known_log.statements)
    with count_statements() as unknown_log:
        unknown = await gql(client, REQUEST_RESET, {"email": "nobody@example.com"})
    unknown_statements = list(unknown_log.statements)
    await deliver_all(mail_settings(settings, mail_server))

    assert known == unknown
    assert len(known_statements) == len(unknown_statements)
    assert [mail["To"] for mail in mail_server.received] == ["known@example.com"]


async def test_a_reset_keeps_two_factor_on(client, settings, mail_server):
    """After a reset, signing in still asks for the second factor."""
    member = await create_member(email="twofa@example.com", password=PASSWORD)
    await enable_two_factor(client, await create_session(member))

    await gql(client, REQUEST_RESET, {"email": "twofa@example.com"})
    await deliver_all(mail_settings(settings, mail_server))
    token = link_token(mail_server.to("twofa@example.com")[0])
    await gql(client, RESET, {"token": token, "password": NEW_PASSWORD})
    signed = await login(client, "twofa@example.com", NEW_PASSWORD)

    assert signed["token"] is None
    assert signed["twoFactorChallenge"]


async def test_an_expired_reset_token_is_refused(client, settings, mail_server):
    """Past its 30 minutes the token is INVALID_TOKEN and the password stays."""
    await create_member(email="late@example.com", password=PASSWORD)
    await gql(client, REQUEST_RESET, {"email": "late@example.com"})
    await deliver_all(mail_settings(settings, mail_server))
    token = link_token(mail_server.to("late@example.com")[0])
    stored = await EmailToken.get(token_hash=token_hash(token))
    assert stored.expires_at - stored.created_at == timedelta(minutes=30)
    await EmailToken.filter(id=stored.id).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )

    body = await gql(client, RESET, {"token": token, "password": NEW_PASSWORD})

    assert body["data"]["resetPassword"]["userErrors"][0]["code"] == "INVALID_TOKEN"
    assert (await login(client, "late@example.com"))["token"]


async def test_bad_tokens_and_weak_passwords_are_user_errors(client, app):
    """Unknown, empty and hostile tokens: INVALID_TOKEN; never a 500."""
    for token in ["", "nope", "x" * 5000, "\u0000", "a\ud800"]:
        for document, variables in [
            (RESET, {"token": token, "password": NEW_PASSWORD}),
            (VERIFY, {"token": token}),
            (CONFIRM_CHANGE, {"token": token}),
        ]:
            # Encoded by hand: json.dumps escapes the lone surrogate as JSON allows.
            response = await client.post(
                "/graphql",
                content=json.dumps({"query": document, "variables": variables}),
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code in {200, 400}
            if response.status_code == 200:
                payload = next(iter(response.json()["data"].values()))
                assert payload["userErrors"][0]["code"] == "INVALID_TOKEN"


async def test_reset_requests_are_throttled_per_address_known_or_not(client, settings):
    """The sixth request in the window is TOO_MANY_ATTEMPTS, for an unknown address too."""
    await create_member(email="busy@example.com", password=PASSWORD)

    for email in ["busy@example.com", "ghost@example.com"]:
        answers = [
            (await gql(client, REQUEST_RESET, {"email": email}))["data"]["requestPasswordReset"]
            for _ in range(settings.mail_requests_per_window + 1)
        ]
        assert answers[0] == {"ok": True, "userErrors": []}
        assert answers[-1]["userErrors"] == [{"field": None, "code": "TOO_MANY_ATTEMPTS"}]


async def test_a_malformed_address_is_invalid_input(client, app):
    body = await gql(client, REQUEST_RESET, {"email": "not an address"})

    assert body["data"]["requestPasswordReset"]["userErrors"] == [
        {"field": ["input", "email"], "code": "INVALID_INPUT"}
    ]


async def test_tokens_never_reach_the_logs(client, settings, mail_server, caplog):
    """Reset, verification and change tokens appear in no log line, at any level."""
    caplog.set_level(logging.DEBUG)
    member = await create_member(email="quiet@example.com", password=PASSWORD)
    session = await create_session(member)
    await gql(client, REQUEST_RESET, {"email": "quiet@example.com"})
    await gql(client, REQUEST_VERIFICATION, token=session)
    await gql(
        client, REQUEST_CHANGE, {"email": "loud@example.com", "password": PASSWORD}, token=session
    )
    await deliver_all(mail_settings(settings, mail_server))
    tokens = [link_token(mail) for mail in mail_server.received if "token=" in text_of(mail)]
    for token in tokens:
        await gql(client, RESET, {"token": token, "password": NEW_PASSWORD})

    assert len(tokens) == 3
    # The SMTP server's own log (the outside world) shows what it received; ours never do.
    ours = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("mail")
    )
    for token in tokens:
        assert token not in ours
        assert not await EmailToken.filter(token_hash=token).exists()  # stored hashed


async def test_registration_mails_a_verification_link_that_verifies_once(
    client, settings, mail_server
):
    """Unverified at registration; the link verifies; the same link again is INVALID_TOKEN."""
    registered = await gql(
        client,
        REGISTER,
        {
            "input": {
                "email": "new@example.com",
                "password": PASSWORD,
                "firstName": "Nina",
                "lastName": "Orlova",
                "acceptTerms": True,
                "sessionTransport": "BEARER",
            }
        },
    )
    await deliver_all(mail_settings(settings, mail_server))
    [mail] = mail_server.to("new@example.com")
    token = link_token(mail)

    verified = await gql(client, VERIFY, {"token": token})
    again = await gql(client, VERIFY, {"token": token})

    assert registered["data"]["register"]["member"] == {"emailVerified": False}
    assert "/verify-email?token=" in mail.get_body(("plain",)).get_content()
    assert verified["data"]["verifyEmail"]["member"] == {
        "email": "new@example.com",
        "emailVerified": True,
    }
    assert again["data"]["verifyEmail"]["userErrors"][0]["code"] == "INVALID_TOKEN"
    me = await gql(client, ME, token=registered["data"]["register"]["token"])
    assert me["data"]["me"]["emailVerified"] is True


async def test_asking_for_the_verification_mail_again_is_throttled(client, settings, app):
    """Resends count per account: past the limit, TOO_MANY_ATTEMPTS."""
    member = await create_member()
    session = await create_session(member)

    answers = [
        (await gql(client, REQUEST_VERIFICATION, token=session))["data"]["requestEmailVerification"]
        for _ in range(settings.mail_requests_per_window + 1)
    ]

    assert answers[0] == {"member": {"emailVerified": False}, "userErrors": []}
    assert answers[-1]["userErrors"] == [{"code": "TOO_MANY_ATTEMPTS"}]


async def test_an_email_change_confirms_the_new_address_and_tells_the_old_one(
    client, settings, mail_server
):
    """The new address gets a link, the old one a notice; the old one signs in until the link
    is opened; then only the new one does, verified."""
    member = await create_member(email="old@example.com", password=PASSWORD)
    session = await create_session(member)
    configured = mail_settings(settings, mail_server)

    asked = await gql(
        client, REQUEST_CHANGE, {"email": "New@Example.com", "password": PASSWORD}, token=session
    )
    await deliver_all(configured)
    still_old = await login(client, "old@example.com")
    [link_mail] = mail_server.to("new@example.com")
    [notice] = mail_server.to("old@example.com")
    confirmed = await gql(client, CONFIRM_CHANGE, {"token": link_token(link_mail)})

    assert asked["data"]["requestEmailChange"] == {
        "member": {"email": "old@example.com"},
        "userErrors": [],
    }
    assert still_old["token"]
    assert "new@example.com" in notice.get_body(("plain",)).get_content()
    assert confirmed["data"]["confirmEmailChange"] == {
        "member": {"email": "new@example.com", "emailVerified": True},
        "userErrors": [],
    }
    assert (await login(client, "old@example.com"))["token"] is None
    assert (await login(client, "new@example.com"))["token"]


async def test_an_email_change_needs_the_password_and_a_free_valid_address(client, app):
    """Wrong password, a taken address, a malformed one: user errors, nothing changes."""
    member = await create_member(email="mine@example.com", password=PASSWORD)
    await create_member(email="taken@example.com")
    session = await create_session(member)

    cases = [
        ({"email": "free@example.com", "password": "wrong-password-here"}, "INVALID_CREDENTIALS"),
        ({"email": "taken@example.com", "password": PASSWORD}, "EMAIL_TAKEN"),
        ({"email": "no at sign", "password": PASSWORD}, "INVALID_INPUT"),
        ({"email": "mine@example.com", "password": PASSWORD}, "INVALID_INPUT"),
    ]
    for variables, code in cases:
        body = await gql(client, REQUEST_CHANGE, variables, token=session)
        assert body["data"]["requestEmailChange"]["userErrors"][0]["code"] == code

    assert (await Member.get(id=member.id)).email == "mine@example.com"
