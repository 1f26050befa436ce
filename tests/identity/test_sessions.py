"""me.sessions, revokeSession, changePassword and who may see which session."""

from __future__ import annotations

from bff.identity.models import Session
from bff.ids import to_global_id
from tests.factories import create_member, create_session, signed_in_member
from tests.graphql_client import gql
from tests.identity.conftest import PASSWORD, login
from tests.sql_counter import gql_with_statements

SESSIONS = "query { me { sessions { id current userAgent createdAt lastSeenAt expiresAt } } }"
REVOKE = """
mutation Revoke($id: ID!) {
  revokeSession(input: {sessionId: $id}) { member { email } userErrors { field code } }
}
"""
CHANGE_PASSWORD = """
mutation Change($input: ChangePasswordInput!) {
  changePassword(input: $input) { member { email } userErrors { field code message } }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { id ... on Session { current } } }"
ME = "query { me { email } }"
NEW_PASSWORD = "amber-walrus-glacier-piano"


async def test_me_sessions_lists_live_sessions_and_marks_the_current_one(client, member):
    """Each live session is listed once; only the requesting one is current."""
    phone = (await login(client, member.email, headers={"User-Agent": "phone/1.0"}))["token"]
    laptop = (await login(client, member.email, headers={"User-Agent": "laptop/2.0"}))["token"]
    await gql(client, REVOKE, {"id": to_global_id("Session", 999_999)}, token=laptop)

    body = await gql(client, SESSIONS, token=phone)

    sessions = body["data"]["me"]["sessions"]
    assert sorted(s["userAgent"] for s in sessions) == ["laptop/2.0", "phone/1.0"]
    assert [s["userAgent"] for s in sessions if s["current"]] == ["phone/1.0"]


async def test_a_member_can_revoke_their_own_other_session(client, member):
    """revokeSession ends that device's session at once."""
    phone = (await login(client, member.email))["token"]
    laptop = (await login(client, member.email))["token"]
    sessions = (await gql(client, SESSIONS, token=phone))["data"]["me"]["sessions"]
    [other] = [s["id"] for s in sessions if not s["current"]]

    body = await gql(client, REVOKE, {"id": other}, token=phone)

    assert body["data"]["revokeSession"]["userErrors"] == []
    assert (await gql(client, ME, token=laptop))["data"]["me"] is None
    assert (await gql(client, ME, token=phone))["data"]["me"] == {"email": member.email}


async def test_another_members_session_id_cannot_be_revoked(client, member):
    """NOT_FOUND, and the other member's session keeps working."""
    _, token = await signed_in_member()
    stranger = await create_member()
    stranger_token = await create_session(stranger)
    stranger_session = await Session.get(member_id=stranger.id)

    body = await gql(
        client, REVOKE, {"id": to_global_id("Session", stranger_session.id)}, token=token
    )

    assert body["data"]["revokeSession"]["userErrors"] == [
        {"field": ["input", "sessionId"], "code": "NOT_FOUND"}
    ]
    assert (await gql(client, ME, token=stranger_token))["data"]["me"] is not None


async def test_node_never_returns_another_members_session(client):
    """node(id) gives one's own session and null for anyone else's."""
    member, token = await signed_in_member()
    own = await Session.get(member_id=member.id)
    stranger = await create_member()
    await create_session(stranger)
    theirs = await Session.get(member_id=stranger.id)

    mine = await gql(client, NODE, {"id": to_global_id("Session", own.id)}, token=token)
    other = await gql(client, NODE, {"id": to_global_id("Session", theirs.id)}, token=token)

    assert mine["data"]["node"]["current"] is True
    assert other["data"]["node"] is None


async def test_node_never_returns_another_member(client):
    """node(id) resolves the caller's own Member and null for another member."""
    member, token = await signed_in_member()
    stranger = await create_member()

    mine = await gql(client, NODE, {"id": to_global_id("Member", member.id)}, token=token)
    other = await gql(client, NODE, {"id": to_global_id("Member", stranger.id)}, token=token)

    assert mine["data"]["node"]["id"] == to_global_id("Member", member.id)
    assert other["data"]["node"] is None


async def test_changing_the_password_ends_every_other_session(client, member):
    """The new password works, the old one does not, and only this session survives."""
    current = (await login(client, member.email))["token"]
    other = (await login(client, member.email))["token"]

    body = await gql(
        client,
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}},
        token=current,
    )

    assert body["data"]["changePassword"]["userErrors"] == []
    assert (await gql(client, ME, token=current))["data"]["me"] is not None
    assert (await gql(client, ME, token=other))["data"]["me"] is None
    assert (await login(client, member.email))["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await login(client, member.email, password=NEW_PASSWORD))["userErrors"] == []


async def test_changing_the_password_needs_the_current_one_and_a_strong_new_one(client, member):
    """A wrong current password and a weak new one are refused on their fields."""
    token = (await login(client, member.email))["token"]

    wrong = await gql(
        client,
        CHANGE_PASSWORD,
        {"input": {"currentPassword": "wrong-password-here", "newPassword": NEW_PASSWORD}},
        token=token,
    )
    weak = await gql(
        client,
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": "short"}},
        token=token,
    )

    assert [(e["field"], e["code"]) for e in wrong["data"]["changePassword"]["userErrors"]] == [
        (["input", "currentPassword"], "INVALID_CREDENTIALS")
    ]
    assert [(e["field"], e["code"]) for e in weak["data"]["changePassword"]["userErrors"]] == [
        (["input", "newPassword"], "WEAK_PASSWORD")
    ]


MEMBER_MUTATIONS = [
    'mutation { changePassword(input: {currentPassword: "a", newPassword: "b"}) { member { id } } }',  # noqa: E501 (one document per line)
    'mutation { revokeSession(input: {sessionId: "x"}) { member { id } } }',
    "mutation { startTwoFactorSetup { secret } }",
    'mutation { confirmTwoFactorSetup(input: {code: "123456"}) { recoveryCodes } }',
    'mutation { disableTwoFactor(input: {password: "a", code: "1"}) { member { id } } }',
    'mutation { updateProfile(input: {firstName: "A"}) { member { id } } }',
    "mutation { updatePreferences(input: {marketingByEmail: true}) { member { id } } }",
    'mutation { closeAccount(input: {password: "a"}) { ok } }',
]


async def test_mutations_that_need_a_member_raise_unauthenticated_without_a_session(client, app):
    """Each member mutation answers a top-level UNAUTHENTICATED error when signed out."""

    bodies = [await gql(client, mutation) for mutation in MEMBER_MUTATIONS]

    for body in bodies:
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_me_with_sessions_and_preferences_costs_the_same_for_one_or_many_sessions(client):
    """Sessions and preferences come through loaders: no statement per session."""
    member, token = await signed_in_member()
    query = "query { me { sessions { id current } preferences { marketingByEmail } } }"
    _, few = await gql_with_statements(client, query, token=token)
    for _ in range(5):
        await create_session(member)

    body, many = await gql_with_statements(client, query, token=token)

    assert len(body["data"]["me"]["sessions"]) == 6
    assert len(many.statements) == len(few.statements) <= 3
