"""Push devices: registered by a session, listed and ended with it; the sender against a local
stand-in for the push service."""

from __future__ import annotations

from pydantic import SecretStr

from bff import events, outbox
from bff.ids import to_global_id
from bff.messages.models import PushDevice
from bff.outbox import MessageKind
from bff.outbox.models import Delivery, DeliveryStatus
from tests.factories import create_member, create_session
from tests.graphql_client import gql
from tests.messages.conftest import deliver_all, mail_settings

REGISTER = """
mutation($platform: PushPlatform!, $token: String!, $name: String) {
  registerPushDevice(input: {platform: $platform, token: $token, name: $name}) {
    device { id platform name } userErrors { field code }
  }
}
"""
UNREGISTER = """
mutation($id: ID!) {
  unregisterPushDevice(input: {deviceId: $id}) {
    member { pushDevices { id } } userErrors { field code }
  }
}
"""
DEVICES = "query { me { pushDevices { id platform name } sessions { id } } }"
REVOKE = """
mutation($id: ID!) { revokeSession(input: {sessionId: $id}) { userErrors { code } } }
"""


def push_settings(settings, mail_server, push_service):
    return mail_settings(
        settings,
        mail_server,
        push_url=push_service.url,
        push_api_key=SecretStr("push-key"),
    )


async def tell(member_id: int) -> None:
    async with events.transaction():
        await outbox.enqueue(member_id=member_id, kind=MessageKind.PASSWORD_CHANGED)


async def test_a_registered_device_is_listed_and_gets_security_notices(
    client, settings, mail_server, push_service
):
    """The device shows in pushDevices; the push service gets the notice with the key."""
    member = await create_member()
    token = await create_session(member)

    registered = await gql(
        client, REGISTER, {"platform": "ANDROID", "token": "fcm-1", "name": "Pixel"}, token=token
    )
    listed = await gql(client, DEVICES, token=token)
    await tell(member.id)
    await deliver_all(push_settings(settings, mail_server, push_service))

    device = registered["data"]["registerPushDevice"]["device"]
    assert device["platform"] == "ANDROID"
    assert listed["data"]["me"]["pushDevices"] == [device]
    [pushed] = push_service.received
    assert pushed["to"] == "fcm-1"
    assert pushed["title"] == "Пароль изменён"
    assert push_service.authorizations == ["Bearer push-key"]


async def test_a_device_ends_with_its_session(client, settings, mail_server, push_service):
    """Revoking the session that registered it: no longer listed, no longer pushed to."""
    member = await create_member()
    phone = await create_session(member)
    laptop = await create_session(member)
    await gql(client, REGISTER, {"platform": "IOS", "token": "apns-1"}, token=phone)
    phone_session = await PushDevice.get(token="apns-1")

    await gql(
        client, REVOKE, {"id": to_global_id("Session", phone_session.session_id)}, token=laptop
    )
    listed = await gql(client, DEVICES, token=laptop)
    await tell(member.id)
    await deliver_all(push_settings(settings, mail_server, push_service))

    assert listed["data"]["me"]["pushDevices"] == []
    assert push_service.received == []


async def test_a_token_the_service_no_longer_knows_is_dropped(
    client, settings, mail_server, push_service
):
    """410 from the service: the delivery FAILED for good and the device deleted."""
    member = await create_member()
    token = await create_session(member)
    await gql(client, REGISTER, {"platform": "WEB", "token": "gone-1"}, token=token)
    push_service.gone.add("gone-1")

    await tell(member.id)
    await deliver_all(push_settings(settings, mail_server, push_service))

    delivery = await Delivery.get(channel="PUSH")
    assert delivery.status == DeliveryStatus.FAILED
    assert not await PushDevice.exists(token="gone-1")


async def test_push_switched_off_gets_no_service_notices(
    client, settings, mail_server, push_service
):
    """notifyByPush off: points credited reach mail and the bell, not the device."""
    member = await create_member()
    token = await create_session(member)
    await gql(client, REGISTER, {"platform": "ANDROID", "token": "fcm-2"}, token=token)
    await gql(
        client,
        "mutation { updatePreferences(input: {notifyByPush: false}) { userErrors { code } } }",
        token=token,
    )
    async with events.transaction():
        await outbox.enqueue(
            member_id=member.id, kind=MessageKind.POINTS_CREDITED, params={"points": 3}
        )

    await deliver_all(push_settings(settings, mail_server, push_service))

    assert push_service.received == []
    assert len(mail_server.to(member.email)) == 1


async def test_unregistering_and_bad_input(client, app):
    """Unregister removes it; another member's id and a bad token are user errors."""
    member = await create_member()
    token = await create_session(member)
    other_token = await create_session(await create_member())
    device = (await gql(client, REGISTER, {"platform": "ANDROID", "token": "fcm-3"}, token=token))[
        "data"
    ]["registerPushDevice"]["device"]

    foreign = await gql(client, UNREGISTER, {"id": device["id"]}, token=other_token)
    removed = await gql(client, UNREGISTER, {"id": device["id"]}, token=token)
    blank = await gql(client, REGISTER, {"platform": "IOS", "token": "  "}, token=token)
    huge = await gql(client, REGISTER, {"platform": "IOS", "token": "x" * 600}, token=token)

    assert foreign["data"]["unregisterPushDevice"]["userErrors"][0]["code"] == "NOT_FOUND"
    assert removed["data"]["unregisterPushDevice"] == {
        "member": {"pushDevices": []},
        "userErrors": [],
    }
    for body in (blank, huge):
        assert body["data"]["registerPushDevice"]["userErrors"] == [
            {"field": ["input", "token"], "code": "INVALID_INPUT"}
        ]
