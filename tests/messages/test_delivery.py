"""Delivery on procrastinate's worker: outbox to SMTP once; retries of transient failures,
permanent ones recorded; switched-off channels get nothing. Killed and parallel workers:
test_workers.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bff import events, metrics, outbox
from bff.messages.jobs import start_up
from bff.outbox import MessageKind
from bff.outbox.models import Delivery, DeliveryStatus, Notification
from bff.profile.services import update_preferences
from tests.factories import create_member
from tests.messages.conftest import deliver_all, job_app, mail_settings, work


async def queue_points(member_id: int, points: int = 10) -> None:
    async with events.transaction():
        await outbox.enqueue(
            member_id=member_id, kind=MessageKind.POINTS_CREDITED, params={"points": points}
        )


async def change_that_fails(member_id: int) -> None:
    async with events.transaction():
        await outbox.enqueue(member_id=member_id, kind=MessageKind.PASSWORD_CHANGED)
        raise RuntimeError("the change failed")


async def test_a_queued_notice_reaches_the_smtp_server_and_the_bell_once(
    app, settings, mail_server
):
    """One outbox row: one mail (text and HTML), one notification; more rounds send nothing."""
    member = await create_member()
    await queue_points(member.id, 42)
    configured = mail_settings(settings, mail_server)

    await deliver_all(configured)
    await deliver_all(configured)

    [mail] = mail_server.to(member.email)
    assert mail["Subject"] == "Начислены баллы"
    assert "42" in mail.get_body(("plain",)).get_content()
    assert "<p>" in mail.get_body(("html",)).get_content()
    assert await Notification.filter(member_id=member.id).count() == 1
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == 1


async def test_a_member_writing_english_gets_english_mail(app, settings, mail_server):
    """The member's language picks the text."""
    member = await create_member()
    member.language = "en"
    await member.save()
    await queue_points(member.id, 7)

    await deliver_all(mail_settings(settings, mail_server))

    [mail] = mail_server.to(member.email)
    assert mail["Subject"] == "Points credited"
    assert mail["Content-Language"] == "en"


async def test_a_transient_smtp_failure_is_tried_again(app, settings, mail_server):
    """451 first, then accepted: one mail, two attempts."""
    member = await create_member()
    mail_server.rcpt_replies[member.email] = ["451 4.3.0 Try again later"]
    await queue_points(member.id)

    await deliver_all(mail_settings(settings, mail_server))

    delivery = await Delivery.get(member_id=member.id)
    assert len(mail_server.to(member.email)) == 1
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)


def delivered(outcome: str) -> float:
    sample = metrics.REGISTRY.get_sample_value(
        "bff_message_deliveries_total", {"channel": "EMAIL", "outcome": outcome}
    )
    return sample or 0.0


async def test_deliveries_are_counted_for_the_metrics_by_outcome(app, settings, mail_server):
    """A 451 then an accepted mail, and a 550: one retry, one sent, one failed."""
    lucky, unlucky = await create_member(), await create_member()
    mail_server.rcpt_replies[lucky.email] = ["451 4.3.0 Try again later"]
    mail_server.rcpt_replies[unlucky.email] = ["550 5.1.1 No such user"] * 5
    before = {outcome: delivered(outcome) for outcome in ("sent", "retry", "failed")}
    await queue_points(lucky.id)
    await queue_points(unlucky.id)

    await deliver_all(mail_settings(settings, mail_server), rounds=5)

    assert {outcome: delivered(outcome) - before[outcome] for outcome in before} == {
        "sent": 1,
        "retry": 1,
        "failed": 1,
    }


async def test_a_retry_waits_for_its_backoff(app, settings, mail_server):
    """With a retry base, procrastinate schedules the second attempt a minute later: the
    worker sends nothing before then."""
    member = await create_member()
    mail_server.rcpt_replies[member.email] = ["421 4.7.0 Busy"]
    await queue_points(member.id)
    configured = mail_settings(settings, mail_server, delivery_retry_base=timedelta(minutes=1))

    async with job_app(configured) as jobs:
        await start_up(jobs, configured)
        await work(jobs, configured)
        await work(jobs, configured)
        delivery = await Delivery.get(member_id=member.id)
        [job] = await jobs.job_manager.list_jobs_async(id=delivery.job_id)

    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert job.status == "todo"
    assert job.scheduled_at is not None
    assert job.scheduled_at > datetime.now(UTC) + timedelta(seconds=50)
    assert mail_server.to(member.email) == []


async def test_a_permanent_refusal_is_recorded_and_never_tried_again(app, settings, mail_server):
    """550: FAILED after one attempt, with the reason; later rounds leave it alone."""
    member = await create_member()
    mail_server.rcpt_replies[member.email] = ["550 5.1.1 No such user"] * 5
    await queue_points(member.id)

    await deliver_all(mail_settings(settings, mail_server), rounds=5)

    delivery = await Delivery.get(member_id=member.id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert "550" in (delivery.last_error or "")
    assert mail_server.received == []


async def test_a_failure_that_never_passes_gives_up_after_the_last_attempt(
    app, settings, mail_server
):
    """Transient every time: FAILED after DELIVERY_MAX_ATTEMPTS, not retried forever."""
    member = await create_member()
    mail_server.rcpt_replies[member.email] = ["451 4.3.0 Later"] * 10
    await queue_points(member.id)

    await deliver_all(mail_settings(settings, mail_server, delivery_max_attempts=3), rounds=10)

    delivery = await Delivery.get(member_id=member.id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert (delivery.last_error or "").startswith("gave up")


async def test_an_unreachable_mail_server_is_a_transient_failure(app, settings, mail_server):
    """Nothing listening: the delivery waits for another attempt."""
    member = await create_member()
    await queue_points(member.id)
    configured = settings.model_copy(
        update={
            "mail_url": "smtp://127.0.0.1:1?tls=none",
            "delivery_retry_base": timedelta(minutes=1),
        }
    )

    await deliver_all(configured)

    delivery = await Delivery.get(member_id=member.id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)


async def test_a_member_who_switched_mail_off_gets_no_mail_but_the_bell(app, settings, mail_server):
    """notifyByEmail off: no delivery, no mail; the notification is still in the bell."""
    member = await create_member()
    await update_preferences(member_id=member.id, changes={"notify_by_email": False})
    await queue_points(member.id)

    await deliver_all(mail_settings(settings, mail_server))

    assert mail_server.received == []
    assert await Delivery.all().count() == 0
    assert await Notification.filter(member_id=member.id).count() == 1


async def test_a_security_notice_ignores_the_switches(app, settings, mail_server):
    """Every switch off: PASSWORD_CHANGED is still mailed."""
    member = await create_member()
    await update_preferences(
        member_id=member.id, changes={"notify_by_email": False, "notify_by_push": False}
    )
    async with events.transaction():
        await outbox.enqueue(member_id=member.id, kind=MessageKind.PASSWORD_CHANGED)

    await deliver_all(mail_settings(settings, mail_server))

    [mail] = mail_server.to(member.email)
    assert mail["Subject"] == "Пароль изменён"


async def test_a_message_rolled_back_with_its_change_is_never_sent(app, settings, mail_server):
    """The outbox row shares the change's transaction: an error after it leaves nothing."""
    member = await create_member()
    with pytest.raises(RuntimeError):
        await change_that_fails(member.id)

    await deliver_all(mail_settings(settings, mail_server))

    assert mail_server.received == []


async def test_mail_to_a_folder_is_one_eml_file_per_message(app, settings, tmp_path):
    """MAIL_URL=file://<folder>: each message an .eml file there."""
    member = await create_member()
    await queue_points(member.id, 5)
    configured = settings.model_copy(update={"mail_url": f"file://{tmp_path}/mail"})

    await deliver_all(configured)

    [eml] = list((tmp_path / "mail").glob("*.eml"))
    assert f"To: {member.email}" in eml.read_text()


async def test_a_members_next_notice_waits_while_the_one_before_is_retried(
    app, settings, mail_server
):
    """Per member and channel in order: the first mail is deferred once (451) and retried a
    second later; the second, queued behind it under the same lock, waits and arrives after."""
    member = await create_member()
    mail_server.rcpt_replies[member.email] = ["451 4.3.0 Try again later"]
    await queue_points(member.id, 1)
    await queue_points(member.id, 2)
    configured = mail_settings(settings, mail_server, delivery_retry_base=timedelta(seconds=1))

    async with job_app(configured) as jobs, asyncio.timeout(20):
        await start_up(jobs, configured)
        while len(mail_server.to(member.email)) < 2:
            await work(jobs, configured)
            await asyncio.sleep(0.2)

    bodies = [mail.get_body(("plain",)).get_content() for mail in mail_server.to(member.email)]
    assert ["1" in body for body in bodies] == [True, False]
    attempts = await Delivery.all().order_by("id").values_list("attempts", flat=True)
    assert attempts == [2, 1]
