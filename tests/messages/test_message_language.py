"""Mail and notices in the member's language, through a real SMTP server: English for those who
chose it, Russian otherwise; a change applies from the next message on; a registration in an
English browser mails in English."""

from __future__ import annotations

from email.message import EmailMessage

from bff import events, outbox
from bff.messages.jobs import relay
from bff.outbox import MessageKind
from bff.outbox.models import Delivery, Notification
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.identity.test_registration import registration
from tests.messages.conftest import deliver_all, job_app, mail_settings

SET_LANGUAGE = """
mutation Language($language: Language!) {
  updateProfile(input: {language: $language}) { member { language } userErrors { code } }
}
"""
REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { member { email language } userErrors { code } }
}
"""


async def queue_points(member_id: int, points: int) -> None:
    async with events.transaction():
        await outbox.enqueue(
            member_id=member_id, kind=MessageKind.POINTS_CREDITED, params={"points": points}
        )


def parts(mail: EmailMessage) -> tuple[str, str, str]:
    """Subject, plain text (without its line ending) and HTML of a mail."""
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None
    assert html is not None
    return str(mail["Subject"]), plain.get_content().rstrip(), html.get_content()


async def bell(member_id: int) -> list[tuple[str, str]]:
    return [
        (row.title, row.body)
        for row in await Notification.filter(member_id=member_id).order_by("id")
    ]


async def test_a_member_who_chose_english_gets_english_mail_and_notices(
    client, settings, mail_server
):
    """Subject, plain text, HTML (and its lang) and the bell: all English."""
    member, token = await signed_in_member()
    chosen = await gql(client, SET_LANGUAGE, {"language": "EN"}, token=token)
    await queue_points(member.id, 42)

    await deliver_all(mail_settings(settings, mail_server))

    assert chosen["data"]["updateProfile"]["member"]["language"] == "EN"
    [mail] = mail_server.to(member.email)
    subject, plain, html = parts(mail)
    assert subject == "Points credited"
    assert plain == "42 points were credited to your account."
    assert "<p>42 points were credited to your account.</p>" in html
    assert '<html lang="en">' in html
    assert mail["Content-Language"] == "en"
    assert await bell(member.id) == [
        ("Points credited", "42 points were credited to your account.")
    ]


async def test_a_member_who_chose_nothing_gets_russian_mail_and_notices(
    client, settings, mail_server
):
    """The default: subject, plain text, HTML and the bell in Russian."""
    member, _ = await signed_in_member()
    await queue_points(member.id, 42)

    await deliver_all(mail_settings(settings, mail_server))

    [mail] = mail_server.to(member.email)
    subject, plain, html = parts(mail)
    assert subject == "Начислены баллы"
    assert plain == "На ваш счёт начислено баллов: 42."
    assert "<p>На ваш счёт начислено баллов: 42.</p>" in html
    assert '<html lang="ru">' in html
    assert mail["Content-Language"] == "ru"
    assert await bell(member.id) == [("Начислены баллы", "На ваш счёт начислено баллов: 42.")]


async def test_a_member_who_switches_back_to_russian_gets_russian_again(
    client, settings, mail_server
):
    """English, then Russian again before the next notice: Russian."""
    member, token = await signed_in_member()
    await gql(client, SET_LANGUAGE, {"language": "EN"}, token=token)
    await gql(client, SET_LANGUAGE, {"language": "RU"}, token=token)
    await queue_points(member.id, 5)

    await deliver_all(mail_settings(settings, mail_server))

    [mail] = mail_server.to(member.email)
    assert parts(mail)[0] == "Начислены баллы"
    assert await bell(member.id) == [("Начислены баллы", "На ваш счёт начислено баллов: 5.")]


async def test_a_change_of_language_applies_to_the_next_message_not_to_one_on_its_way(
    client, settings, mail_server
):
    """A notice dispatched in Russian (its mail waiting for the SMTP round) keeps Russian when
    the member switches to English; the next notice is English, mail and bell."""
    member, token = await signed_in_member()
    configured = mail_settings(settings, mail_server)
    await queue_points(member.id, 1)
    async with job_app(configured) as jobs:
        await relay(jobs, configured)  # dispatched; its mail not sent yet

    await gql(client, SET_LANGUAGE, {"language": "EN"}, token=token)
    await queue_points(member.id, 2)
    await deliver_all(configured)

    first, second = mail_server.to(member.email)
    assert parts(first)[:2] == ("Начислены баллы", "На ваш счёт начислено баллов: 1.")
    assert parts(second)[:2] == ("Points credited", "2 points were credited to your account.")
    assert await bell(member.id) == [
        ("Начислены баллы", "На ваш счёт начислено баллов: 1."),
        ("Points credited", "2 points were credited to your account."),
    ]
    languages = (
        await Delivery.filter(member_id=member.id).order_by("id").values_list("language", flat=True)
    )
    assert languages == ["ru", "en"]


async def test_a_registration_from_an_english_browser_is_english_and_so_is_its_first_mail(
    client, settings, mail_server
):
    """Accept-Language en: the member is EN and the address verification mail is English."""

    body = await gql(
        client,
        REGISTER,
        registration(email="reader@example.com"),
        headers={"Accept-Language": "en-GB,en;q=0.9,ru;q=0.5"},
    )
    await deliver_all(mail_settings(settings, mail_server))

    assert body["data"]["register"]["member"] == {
        "email": "reader@example.com",
        "language": "EN",
    }
    [mail] = mail_server.to("reader@example.com")
    subject, plain, html = parts(mail)
    assert subject == "Confirm your email"
    assert plain.startswith("To confirm this address, open the link (valid 24 hours): ")
    assert '<html lang="en">' in html


async def test_a_registration_from_a_russian_browser_mails_in_russian(
    client, settings, mail_server
):
    """Accept-Language ru: the verification mail is Russian."""

    await gql(
        client,
        REGISTER,
        registration(email="chitatel@example.com"),
        headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"},
    )
    await deliver_all(mail_settings(settings, mail_server))

    [mail] = mail_server.to("chitatel@example.com")
    assert parts(mail)[0] == "Подтвердите адрес почты"
