"""updateProfile, updatePreferences with consent history, and the data export."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bff.loyalty.models import Card
from bff.profile.models import ConsentEvent
from tests.factories import create_purchase, signed_in_member
from tests.graphql_client import gql

UPDATE_PROFILE = """
mutation Update($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    member { firstName lastName phone companyName taxId }
    userErrors { field code }
  }
}
"""
UPDATE_PREFERENCES = """
mutation Prefs($input: UpdatePreferencesInput!) {
  updatePreferences(input: $input) {
    member { preferences { notifyByEmail notifyBySms marketingByEmail marketingBySms updatedAt } }
    userErrors { code }
  }
}
"""
PREFERENCES = "query { me { preferences { notifyByEmail marketingByEmail marketingByPush } } }"
EXPORT = "query { me { dataExport } }"


async def test_update_profile_cleans_given_fields_and_leaves_the_rest(client):
    """Given fields are validated and normalised; omitted ones stay; empty clears optionals."""
    _, token = await signed_in_member()

    body = await gql(
        client,
        UPDATE_PROFILE,
        {"input": {"firstName": "  Maria ", "phone": "+44 20 7946 0958", "taxId": "500100732259"}},
        token=token,
    )
    cleared = await gql(client, UPDATE_PROFILE, {"input": {"phone": ""}}, token=token)

    assert body["data"]["updateProfile"]["member"] == {
        "firstName": "Maria",
        "lastName": "Petrova",
        "phone": "+442079460958",
        "companyName": None,
        "taxId": "500100732259",
    }
    assert cleared["data"]["updateProfile"]["member"]["phone"] is None


async def test_update_profile_reports_each_invalid_field(client):
    """A blank name, a bad phone and a bad INN are reported on their fields; nothing changes."""
    _, token = await signed_in_member()

    body = await gql(
        client,
        UPDATE_PROFILE,
        {"input": {"lastName": " ", "phone": "+7 000", "taxId": "1234567890"}},
        token=token,
    )

    assert {tuple(e["field"]) for e in body["data"]["updateProfile"]["userErrors"]} == {
        ("input", "lastName"),
        ("input", "phone"),
        ("input", "taxId"),
    }
    assert body["data"]["updateProfile"]["member"] is None


async def test_marketing_is_off_until_turned_on_and_each_change_is_recorded(client):
    """Defaults: service on, marketing off. Each marketing change writes a ConsentEvent."""
    member, token = await signed_in_member()
    before = await gql(client, PREFERENCES, token=token)

    await gql(
        client,
        UPDATE_PREFERENCES,
        {"input": {"marketingByEmail": True, "notifyBySms": False}},
        token=token,
    )
    await gql(client, UPDATE_PREFERENCES, {"input": {"marketingByEmail": True}}, token=token)
    after = await gql(
        client, UPDATE_PREFERENCES, {"input": {"marketingByEmail": False}}, token=token
    )

    assert before["data"]["me"]["preferences"] == {
        "notifyByEmail": True,
        "marketingByEmail": False,
        "marketingByPush": False,
    }
    preferences = after["data"]["updatePreferences"]["member"]["preferences"]
    assert preferences["marketingByEmail"] is False
    assert preferences["notifyBySms"] is False
    events = await ConsentEvent.filter(member_id=member.id).order_by("id")
    assert [(e.channel.value, e.granted) for e in events] == [("EMAIL", True), ("EMAIL", False)]
    assert all(e.occurred_at.tzinfo is not None for e in events)


async def test_preferences_never_changed_are_the_defaults_as_of_registration(client):
    """Before the first change there is no row: service notices on, marketing off, dated when
    the member registered (in `me.preferences` and in the data export alike)."""
    member, token = await signed_in_member()
    registered = member.created_at.isoformat()

    body = await gql(
        client,
        "query { me { preferences { notifyByEmail marketingByEmail updatedAt } } }",
        token=token,
    )
    export = await gql(client, EXPORT, token=token)

    assert body["data"]["me"]["preferences"] == {
        "notifyByEmail": True,
        "marketingByEmail": False,
        "updatedAt": registered,
    }
    assert export["data"]["me"]["dataExport"]["preferences"]["updatedAt"] == registered


async def test_the_data_export_holds_profile_preferences_cards_purchases_and_ledger(client):
    """me.dataExport is one JSON document with everything the portal holds on the member (a
    row written directly carries no multiplier; no tier change yet)."""
    member, token = await signed_in_member(email="export@example.com")
    card = await Card.create(number="4600000000017", code_hash="x", member=member, label="Main")
    now = datetime.now(UTC)
    await create_purchase(
        member=member, card=card, receipt_id="R-1", total=Decimal("123.40"), points=12, at=now
    )

    body = await gql(client, EXPORT, token=token)

    export = body["data"]["me"]["dataExport"]
    assert export["profile"]["email"] == "export@example.com"
    assert export["preferences"] is None or "marketingByEmail" in export["preferences"]
    assert export["cards"] == [
        {
            "number": "4600000000017",
            "label": "Main",
            "status": "ACTIVE",
            "kind": "PHYSICAL",
            "deactivationReason": None,
            "linkedAt": None,
            "lastUsedAt": None,
        }
    ]
    assert export["purchases"][0]["total"] == "123.40"
    assert export["pointsLedger"] == [
        {
            "kind": "EARN",
            "amount": 12,
            "occurredAt": now.isoformat(),
            "receiptId": "R-1",
            "multiplier": None,
        }
    ]
    assert export["tierHistory"] == []
    assert len(export["sessions"]) == 1


async def test_the_data_export_needs_a_session(client, app):
    """Anonymous callers get no member, hence no export."""

    body = await gql(client, EXPORT)

    assert body == {"data": {"me": None}}
