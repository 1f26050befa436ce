"""register is throttled per client address: every attempt counts, successful ones too.

Each attempt costs a password hash and EMAIL_TAKEN tells whether an email has an account, so a
flood of registrations from one address is capped at REGISTER_PER_ADDRESS_PER_WINDOW.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bff.identity.models import Member, ThrottleCounter
from tests.factories import create_member
from tests.graphql_client import gql

PASSWORD = "violet-tractor-orbit-lantern"
REGISTER = """
mutation Register($email: String!) {
  register(input: {email: $email, password: "violet-tractor-orbit-lantern", firstName: "Olga",
                   lastName: "Ivanova", acceptTerms: true, sessionTransport: BEARER}) {
    token userErrors { field code }
  }
}
"""


def aliased_registrations(emails):
    fields = "\n".join(
        f'r{i}: register(input: {{email: "{email}", password: "{PASSWORD}", firstName: "Olga",'
        ' lastName: "Ivanova", acceptTerms: true, sessionTransport: BEARER})'
        " { token userErrors { code } }"
        for i, email in enumerate(emails)
    )
    return f"mutation {{\n{fields}\n}}"


def codes_of(payloads):
    return [p["userErrors"][0]["code"] if p["userErrors"] else "OK" for p in payloads]


async def register(http, email):
    return (await gql(http, REGISTER, {"email": email}))["data"]["register"]


async def test_registrations_past_the_address_limit_are_refused_even_when_they_succeed(
    client_with,
):
    """Three successful registrations use up a limit of three; the fourth creates no member."""
    http = await client_with(register_per_address_per_window=3)
    for number in range(3):
        assert (await register(http, f"olga{number}@example.com"))["token"]

    refused = await register(http, "olga3@example.com")

    assert refused == {"token": None, "userErrors": [{"field": None, "code": "TOO_MANY_ATTEMPTS"}]}
    assert await Member.filter(email="olga3@example.com").count() == 0


async def test_aliased_registrations_in_one_request_each_count(client_with):
    """Five aliases with a limit of three: three are tried, two refused before any hash."""
    http = await client_with(register_per_address_per_window=3)
    emails = [f"alias{number}@example.com" for number in range(5)]

    response = await http.post("/graphql", json={"query": aliased_registrations(emails)})

    codes = codes_of(response.json()["data"].values())
    assert codes == ["OK", "OK", "OK", "TOO_MANY_ATTEMPTS", "TOO_MANY_ATTEMPTS"]
    assert await Member.all().count() == 3


async def test_probing_emails_with_email_taken_is_capped_too(client_with):
    """Failed attempts count like successful ones: enumerating accounts stops at the limit."""
    await create_member(email="anna@example.com")
    http = await client_with(register_per_address_per_window=3)

    response = await http.post(
        "/graphql", json={"query": aliased_registrations(["anna@example.com"] * 5)}
    )

    codes = codes_of(response.json()["data"].values())
    assert codes == ["EMAIL_TAKEN"] * 3 + ["TOO_MANY_ATTEMPTS"] * 2


async def test_another_address_can_still_register_and_the_limit_is_temporary(client_with, settings):
    """The limit is per client address, and it ends once THROTTLE_WINDOW has passed."""
    office = await client_with(register_per_address_per_window=1)
    await register(office, "first@example.com")
    assert (await register(office, "second@example.com"))["userErrors"][0]["code"] == (
        "TOO_MANY_ATTEMPTS"
    )
    elsewhere = await client_with(client_address="198.51.100.20", register_per_address_per_window=1)

    other_address = await register(elsewhere, "third@example.com")
    later = datetime.now(UTC) - settings.throttle_window - timedelta(seconds=1)
    await ThrottleCounter.all().update(updated_at=later)
    after_the_window = await register(office, "second@example.com")

    assert other_address["userErrors"] == []
    assert after_the_window["userErrors"] == []


async def test_the_default_limit_lets_an_office_register_twenty_members(client, settings):
    """REGISTER_PER_ADDRESS_PER_WINDOW is 20 by default: twenty colleagues in a row register."""

    payloads = [await register(client, f"colleague{number}@example.com") for number in range(21)]

    assert settings.register_per_address_per_window == 20
    assert codes_of(payloads) == ["OK"] * 20 + ["TOO_MANY_ATTEMPTS"]
