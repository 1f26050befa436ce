"""The language of a member's mail and notices: chosen at registration (or taken from the
request's Accept-Language), changed in the profile, listed in the data export."""

from __future__ import annotations

import pytest

from bff.identity.models import Member
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.identity.test_registration import registration

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { member { email language } userErrors { field code } }
}
"""
UPDATE_PROFILE = """
mutation Update($input: UpdateProfileInput!) {
  updateProfile(input: $input) { member { firstName language } userErrors { field code } }
}
"""
ME = "query { me { language } }"
EXPORT = "query { me { dataExport } }"


async def register(client, headers=None, **overrides):
    body = await gql(client, REGISTER, registration(**overrides), headers=headers)
    payload = body["data"]["register"]
    assert payload["userErrors"] == []
    return payload["member"]["language"]


async def test_a_registration_that_names_no_language_and_sends_no_accept_language_is_russian(
    client,
):
    """No choice and no header: Russian, the program's language."""

    language = await register(client)

    assert language == "RU"
    assert (await Member.get(email="anna.petrova@example.com")).language == "ru"


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("en-GB,en;q=0.9", "EN"),
        ("en-US", "EN"),
        ("ru-RU,ru;q=0.9,en;q=0.8", "RU"),
        ("de-DE, en;q=0.5, ru;q=0.8", "RU"),
        ("de-DE, ru;q=0.5, en;q=0.8", "EN"),
        ("de-DE, fr;q=0.9", "RU"),
        ("*", "RU"),
        ("en;q=nonsense,,;;;", "RU"),
    ],
)
async def test_a_registration_without_a_language_takes_the_best_match_of_accept_language(
    client, accept_language, expected
):
    """Between Russian and English, the one the browser prefers; Russian when it asks for
    neither (or says something unreadable)."""

    language = await register(client, headers={"Accept-Language": accept_language})

    assert language == expected


async def test_a_language_named_in_the_registration_wins_over_accept_language(client):
    """The portal sends the language its member reads the page in."""

    language = await register(client, headers={"Accept-Language": "en"}, language="RU")

    assert language == "RU"


async def test_an_unknown_language_is_refused_by_the_schema_not_with_a_500(client):
    """`DE` is no Language value: a validation error, no member."""

    response = await client.post(
        "/graphql", json={"query": REGISTER, "variables": registration(language="DE")}
    )
    inline = await client.post(
        "/graphql",
        json={
            "query": 'mutation { updateProfile(input: {language: "en"}) { member { language } } }'
        },
    )

    assert response.status_code == 200
    assert "Value 'DE' does not exist in 'Language' enum" in response.json()["errors"][0]["message"]
    assert "data" not in response.json() or response.json()["data"] is None
    assert await Member.filter(email="anna.petrova@example.com").count() == 0
    assert inline.status_code == 200
    assert "Language" in inline.json()["errors"][0]["message"]


async def test_a_member_changes_the_language_in_the_profile_and_it_stays(client):
    """updateProfile with `language` alone changes nothing else; without it the language
    stays."""
    _, token = await signed_in_member()

    english = await gql(client, UPDATE_PROFILE, {"input": {"language": "EN"}}, token=token)
    renamed = await gql(client, UPDATE_PROFILE, {"input": {"firstName": "Maria"}}, token=token)
    me = await gql(client, ME, token=token)

    assert english["data"]["updateProfile"] == {
        "member": {"firstName": "Anna", "language": "EN"},
        "userErrors": [],
    }
    assert renamed["data"]["updateProfile"]["member"] == {"firstName": "Maria", "language": "EN"}
    assert me["data"]["me"]["language"] == "EN"


async def test_a_rejected_profile_change_leaves_the_language_as_it_was(client):
    """One field wrong: nothing of the change is saved, the language neither."""
    member, token = await signed_in_member()

    body = await gql(
        client, UPDATE_PROFILE, {"input": {"language": "EN", "taxId": "123"}}, token=token
    )

    assert body["data"]["updateProfile"]["userErrors"] == [
        {"field": ["input", "taxId"], "code": "INVALID_INPUT"}
    ]
    await member.refresh_from_db()
    assert member.language == "ru"


async def test_the_data_export_lists_the_language(client):
    """The profile part of the export names the language (ISO 639-1)."""
    _, token = await signed_in_member()
    await gql(client, UPDATE_PROFILE, {"input": {"language": "EN"}}, token=token)

    body = await gql(client, EXPORT, token=token)

    assert body["data"]["me"]["dataExport"]["profile"]["language"] == "en"
