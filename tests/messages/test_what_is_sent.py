"""What each change sends: points, card status, personal offers (marketing, verified mail,
one-click unsubscribe), new sign-ins, two-factor off, expiring points once per date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp

from bff.identity.models import Member
from bff.loyalty.cards import attach_card
from bff.loyalty.models import Card, PointsLot
from bff.messages.expiring import queue_expiring_points
from bff.outbox.models import Notification, OutboxMessage
from bff.profile.models import Preferences
from bff.profile.services import update_preferences
from tests.factories import create_member, create_session
from tests.graphql_client import gql
from tests.identity.conftest import PASSWORD, login
from tests.identity.test_registration import REGISTER, registration
from tests.identity.test_two_factor import DISABLE, VERIFY, code_at, enable_two_factor
from tests.loyalty.rewards_helpers import member_with_points, redeem
from tests.loyalty.store import buy, issue_card, publish_reward
from tests.messages.conftest import deliver_all, mail_settings
from tests.offers.test_offers import create_offer

DEACTIVATE = """
mutation($id: ID!) { deactivateCard(input: {cardId: $id}) { card { status } userErrors { code } } }
"""


async def kinds_of(member_id: int) -> list[str]:
    return [
        str(kind)
        for kind in await Notification.filter(member_id=member_id)
        .order_by("id")
        .values_list("kind", flat=True)
    ]


async def test_a_purchase_on_a_linked_card_credits_and_tells(client, settings, mail_server):
    """The till's receipt: POINTS_CREDITED by mail and in the bell."""
    member = await create_member()
    number, _ = await issue_card(client)
    card = await Card.get(number=number)
    await attach_card(member_id=member.id, card_id=card.id, label=None, settings=settings)

    await buy(client, number, "250.00")
    await deliver_all(mail_settings(settings, mail_server))

    [mail] = mail_server.to(member.email)
    assert "25" in mail.get_body(("plain",)).get_content()
    assert await kinds_of(member.id) == ["POINTS_CREDITED"]


async def test_deactivating_a_card_sends_card_status_changed(client, settings, mail_server):
    member = await create_member()
    token = await create_session(member)
    number, _ = await issue_card(client)
    card = await Card.get(number=number)
    await attach_card(member_id=member.id, card_id=card.id, label=None, settings=settings)
    card_id = (await gql(client, "query { me { cards { id } } }", token=token))["data"]["me"][
        "cards"
    ][0]["id"]

    await gql(client, DEACTIVATE, {"id": card_id}, token=token)
    await deliver_all(mail_settings(settings, mail_server))

    [mail] = mail_server.to(member.email)
    assert number[-4:] in mail.get_body(("plain",)).get_content()
    assert await kinds_of(member.id) == ["CARD_STATUS_CHANGED"]


async def test_a_personal_offer_waits_for_consent_and_a_verified_address(
    client, settings, mail_server
):
    """Marketing: no mail without consent, none to an unverified address even with it; with
    both, a mail with RFC 8058 headers whose one-click POST turns the consent off."""
    member = await create_member()
    configured = mail_settings(settings, mail_server)

    await create_offer(client, "No consent", memberEmail=member.email)
    await deliver_all(configured)
    await update_preferences(member_id=member.id, changes={"marketing_by_email": True})
    await create_offer(client, "Unverified", memberEmail=member.email)
    await deliver_all(configured)
    await Member.filter(id=member.id).update(email_verified_at=datetime.now(UTC))
    await create_offer(client, "Verified", memberEmail=member.email)
    await deliver_all(configured)

    [mail] = mail_server.to(member.email)
    assert "Verified" in mail.get_body(("plain",)).get_content()
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = mail["List-Unsubscribe"].strip().strip("<>")
    assert url.startswith(f"{settings.public_url}/unsubscribe?token=")
    assert await kinds_of(member.id) == ["PERSONAL_OFFER"] * 3

    path = url.removeprefix(settings.public_url)
    page = await client.get(path)
    one_click = await client.post(path, content="List-Unsubscribe=One-Click")
    forged = await client.post("/unsubscribe?token=1.abc", content="List-Unsubscribe=One-Click")

    assert page.status_code == 200
    assert one_click.json() == {"unsubscribed": True}
    assert not (await Preferences.get(member_id=member.id)).marketing_by_email
    assert forged.status_code == 400


async def test_a_sign_in_without_the_accounts_device_cookie_is_a_security_notice(
    client, settings, mail_server
):
    """No device token: NEW_SIGN_IN, named by the User-Agent; the same browser (its cookie)
    again: nothing; the same User-Agent from a client without the cookie: told again."""
    member = await create_member(email="device@example.com", password=PASSWORD)
    phone = {"User-Agent": "PortalApp/1.0 (Android 15)"}

    await login(client, "device@example.com", headers=phone)
    await login(client, "device@example.com", headers=phone)
    client.cookies.clear()  # another device that copies the User-Agent string
    await login(client, "device@example.com", headers=phone)
    await deliver_all(mail_settings(settings, mail_server))

    mails = mail_server.to("device@example.com")
    assert len(mails) == 2
    assert all("Android 15" in mail.get_body(("plain",)).get_content() for mail in mails)
    assert await kinds_of(member.id) == ["NEW_SIGN_IN", "NEW_SIGN_IN"]


async def test_the_device_that_registered_signs_in_without_a_new_device_notice(client):
    """Registering hands the device its token: its later sign-ins are known."""
    body = await gql(client, REGISTER, registration(email="new@example.com"))
    assert body["data"]["register"]["userErrors"] == []

    signed_in = await login(client, "new@example.com")

    member = await Member.get(email="new@example.com")
    assert signed_in["token"]
    assert "NEW_SIGN_IN" not in await OutboxMessage.filter(member_id=member.id).values_list(
        "kind", flat=True
    )


async def test_a_two_factor_sign_in_from_a_new_device_is_told_once_the_code_is_accepted(
    client, settings, mail_server
):
    """The challenge remembers that its device was new; an unanswered one tells nothing, a
    known device's tells nothing either."""
    member = await create_member(email="twofa@example.com", password=PASSWORD)
    secret, _ = await enable_two_factor(client, await create_session(member))
    client.cookies.clear()

    async def new_sign_ins() -> int:
        return await OutboxMessage.filter(member_id=member.id, kind="NEW_SIGN_IN").count()

    challenge = (await login(client, "twofa@example.com"))["twoFactorChallenge"]
    before_the_code = await new_sign_ins()
    await Member.filter(id=member.id).update(totp_last_step=None)
    verified = await gql(client, VERIFY, {"challenge": challenge, "code": code_at(secret)})
    after_the_code = await new_sign_ins()
    again = (await login(client, "twofa@example.com"))["twoFactorChallenge"]  # now known
    await Member.filter(id=member.id).update(totp_last_step=None)
    await gql(client, VERIFY, {"challenge": again, "code": code_at(secret)})

    assert verified["data"]["verifyTwoFactor"]["token"]
    assert (before_the_code, after_the_code, await new_sign_ins()) == (0, 1, 1)


async def test_turning_two_factor_off_and_changing_the_password_are_told(
    client, settings, mail_server
):
    member = await create_member(email="secure@example.com", password=PASSWORD)
    token = await create_session(member)
    secret, _ = await enable_two_factor(client, token)
    await Member.filter(id=member.id).update(totp_last_step=None)

    await gql(
        client, DISABLE, {"password": PASSWORD, "code": pyotp.TOTP(secret).now()}, token=token
    )
    await gql(
        client,
        """mutation($c: String!, $n: String!) {
             changePassword(input: {currentPassword: $c, newPassword: $n}) { userErrors { code } }
           }""",
        {"c": PASSWORD, "n": "copper-kettle-meadow-whistle"},
        token=token,
    )
    await deliver_all(mail_settings(settings, mail_server))

    assert await kinds_of(member.id) == ["TWO_FACTOR_DISABLED", "PASSWORD_CHANGED"]
    assert len(mail_server.to("secure@example.com")) == 2


async def test_expiring_points_are_announced_once_per_member_and_date(
    client, settings, mail_server
):
    """Lots expiring within 30 days, grouped by date; a second scan adds nothing; lots
    further out are not announced."""
    member = await create_member()
    number, _ = await issue_card(client)
    card = await Card.get(number=number)
    await attach_card(member_id=member.id, card_id=card.id, label=None, settings=settings)
    long_ago = (datetime.now(UTC) - timedelta(days=350)).isoformat()
    await buy(client, number, "100.00", occurredAt=long_ago)
    await buy(client, number, "200.00", occurredAt=long_ago)
    await buy(client, number, "500.00")
    now = datetime.now(UTC)

    first = await queue_expiring_points(now=now, settings=settings)
    again = await queue_expiring_points(now=now, settings=settings)
    await deliver_all(mail_settings(settings, mail_server))

    expiring = await OutboxMessage.get(kind="POINTS_EXPIRING")
    expiry = (await PointsLot.filter(member_id=member.id).order_by("expires_at").first()).expires_at
    assert (first, again) == (1, 0)
    assert expiring.params == {"points": 30, "date": expiry.date().isoformat()}
    assert "POINTS_EXPIRING" in await kinds_of(member.id)


async def test_reaching_a_new_tier_is_told(client, settings, mail_server):
    """The purchase that lifts the member to Silver: TIER_CHANGED in the bell and by mail."""
    member = await create_member()
    number, _ = await issue_card(client)
    card = await Card.get(number=number)
    await attach_card(member_id=member.id, card_id=card.id, label=None, settings=settings)

    await buy(client, number, "150000.00")
    await deliver_all(mail_settings(settings, mail_server))

    # The tier is settled before the purchase's points are credited: the mails follow suit.
    assert await kinds_of(member.id) == ["TIER_CHANGED", "POINTS_CREDITED"]
    subjects = [mail["Subject"] for mail in mail_server.to(member.email)]
    assert subjects == ["Новый уровень", "Начислены баллы"]


async def test_a_coupon_bought_with_points_is_told(client, settings, mail_server):
    """Redeeming a reward: COUPON_ISSUED with the reward's title."""
    member, token, _ = await member_with_points(client, 300)
    reward_id = await publish_reward(client, "Espresso machine", cost=200)

    assert (await redeem(client, token, reward_id))["userErrors"] == []
    await deliver_all(mail_settings(settings, mail_server))

    assert (await kinds_of(member.id))[-1] == "COUPON_ISSUED"
    [mail] = [m for m in mail_server.to(member.email) if m["Subject"] == "Новый купон"]
    assert "Espresso machine" in mail.get_body(("plain",)).get_content()
