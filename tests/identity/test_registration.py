"""register: validated, normalised input, terms recorded, enrolled and signed in."""

from __future__ import annotations

import pytest

from bff.identity.models import Member, ProgramStatus
from bff.identity.validation import is_valid_inn
from tests.factories import create_member
from tests.graphql_client import gql

PASSWORD = "violet-tractor-orbit-lantern"

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) {
    member { email firstName lastName phone companyName taxId programStatus twoFactorEnabled }
    token
    twoFactorChallenge
    userErrors { field code message }
  }
}
"""
ME = "query { me { email } }"


def registration(**overrides):
    values = {
        "email": "  Anna.Petrova@Example.COM ",
        "password": PASSWORD,
        "firstName": "  Anna  ",
        "lastName": "Petrova",
        "phone": "+7 (912) 345-67-89",
        "companyName": " Petrova Trading ",
        "taxId": "7707083893",
        "acceptTerms": True,
        "sessionTransport": "BEARER",
    }
    values.update(overrides)
    return {"input": values}


async def test_registration_normalises_input_enrols_and_signs_in(client, settings):
    """A valid registration stores normalised fields, enrols, records terms and signs in."""

    body = await gql(client, REGISTER, registration())

    payload = body["data"]["register"]
    assert payload["userErrors"] == []
    assert payload["member"] == {
        "email": "anna.petrova@example.com",
        "firstName": "Anna",
        "lastName": "Petrova",
        "phone": "+79123456789",
        "companyName": "Petrova Trading",
        "taxId": "7707083893",
        "programStatus": "ENROLLED",
        "twoFactorEnabled": False,
    }
    me = await gql(client, ME, token=payload["token"])
    assert me["data"]["me"]["email"] == "anna.petrova@example.com"
    stored = await Member.get(email="anna.petrova@example.com")
    assert stored.terms_version == settings.terms_version
    assert stored.terms_accepted_at is not None
    assert stored.program_status is ProgramStatus.ENROLLED
    assert stored.password_hash.startswith("$argon2id$")


async def test_cookie_registration_sets_an_http_only_lax_cookie_and_returns_no_token(client):
    """COOKIE transport: the token travels only in an HttpOnly, SameSite=Lax cookie."""

    response = await client.post(
        "/graphql", json={"query": REGISTER, "variables": registration(sessionTransport="COOKIE")}
    )

    assert response.json()["data"]["register"]["token"] is None
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("bff_session=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    me = await client.post("/graphql", json={"query": ME})
    assert me.json()["data"]["me"]["email"] == "anna.petrova@example.com"


async def test_every_invalid_field_is_reported_with_its_path_and_code(client):
    """Bad email, names, phone, INN and no terms: one userError per field."""

    body = await gql(
        client,
        REGISTER,
        registration(
            email="not-an-email",
            firstName="   ",
            lastName="x" * 101,
            phone="12345",
            taxId="7707083894",
            acceptTerms=False,
        ),
    )

    errors = {tuple(e["field"]): e["code"] for e in body["data"]["register"]["userErrors"]}
    assert errors == {
        ("input", "email"): "INVALID_INPUT",
        ("input", "firstName"): "INVALID_INPUT",
        ("input", "lastName"): "INVALID_INPUT",
        ("input", "phone"): "INVALID_INPUT",
        ("input", "taxId"): "INVALID_INPUT",
        ("input", "acceptTerms"): "TERMS_NOT_ACCEPTED",
    }
    assert await Member.all().count() == 0


async def test_a_weak_password_is_reported_with_the_other_invalid_fields_in_one_answer(client):
    """The sign-up form shows every field's problem from one round trip, the password's too."""

    body = await gql(
        client, REGISTER, registration(email="not-an-email", password="short", acceptTerms=False)
    )

    errors = {tuple(e["field"]): e["code"] for e in body["data"]["register"]["userErrors"]}
    assert errors == {
        ("input", "email"): "INVALID_INPUT",
        ("input", "password"): "WEAK_PASSWORD",
        ("input", "acceptTerms"): "TERMS_NOT_ACCEPTED",
    }


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-one", "at least 15"),
        ("p" * 300, "at most 256"),
        ("password123456789", "commonly used"),
    ],
)
async def test_too_short_too_long_and_blocklisted_passwords_are_refused_with_reasons(
    client, password, reason
):
    """WEAK_PASSWORD on the password field, with a reason the member can act on."""

    body = await gql(client, REGISTER, registration(password=password))

    [error] = body["data"]["register"]["userErrors"]
    assert error["field"] == ["input", "password"]
    assert error["code"] == "WEAK_PASSWORD"
    assert reason in error["message"]


async def test_a_password_made_of_the_members_own_email_is_refused(client):
    """zxcvbn is told the member's own inputs, so their email is not a password."""

    body = await gql(client, REGISTER, registration(password="anna.petrova@example.com"))

    [error] = body["data"]["register"]["userErrors"]
    assert error["code"] == "WEAK_PASSWORD"


async def test_an_email_taken_in_another_case_is_refused(client):
    """Emails are unique case-insensitively."""
    await create_member(email="anna.petrova@example.com")

    body = await gql(client, REGISTER, registration(email="ANNA.PETROVA@example.com"))

    [error] = body["data"]["register"]["userErrors"]
    assert (error["field"], error["code"]) == (["input", "email"], "EMAIL_TAKEN")


@pytest.mark.parametrize(
    ("inn", "valid"),
    [
        ("7707083893", True),
        ("500100732259", True),
        ("7707083890", False),
        ("500100732250", False),
        ("770708389", False),
        ("77070838931", False),
        ("\uff17\uff17\uff10\uff17\uff10\uff18\uff13\uff18\uff19\uff13", False),  # full-width
    ],
)
def test_inn_check_digits_follow_the_official_algorithm(inn, valid):
    """10-digit and 12-digit INNs are accepted only with their check digits."""

    result = is_valid_inn(inn)

    assert result is valid


async def test_blank_optional_fields_mean_none_at_registration_as_in_update_profile(client):
    """Registration and updateProfile clean fields by one set of rules: blank phone/INN is none."""

    body = await gql(client, REGISTER, registration(phone="   ", taxId=" ", companyName="  "))

    payload = body["data"]["register"]
    assert payload["userErrors"] == []
    assert payload["member"]["phone"] is None
    assert payload["member"]["taxId"] is None
    assert payload["member"]["companyName"] is None
