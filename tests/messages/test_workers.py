"""Workers on procrastinate: one stopped or SIGKILLed mid-batch, two side by side, the relay
run again, the daily jobs (expiring points once per date, pruning). Nothing is sent twice."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager
from procrastinate import App
from procrastinate.testing import InMemoryConnector

from bff import events, outbox
from bff.app import build_app
from bff.db.connection import init_db
from bff.identity.models import Member
from bff.loyalty.cards import attach_card
from bff.loyalty.models import Card
from bff.messages.delivery import INTERRUPTED
from bff.messages.jobs import nudge_relay, prune, relay, start_up, worker_options
from bff.outbox import MessageKind, OutboxMessage
from bff.outbox.models import Delivery, DeliveryStatus, Notification
from bff.settings import Settings
from tests.conftest import empty_tables
from tests.factories import create_member
from tests.identity.conftest import PASSWORD, login
from tests.loyalty.store import buy, issue_card
from tests.messages.conftest import MailServer, deliver_all, job_app, mail_settings, work

BFF = Path(sys.executable).with_name("bff")


async def queue_points(member_id: int, points: int = 10) -> None:
    async with events.transaction():
        await outbox.enqueue(
            member_id=member_id, kind=MessageKind.POINTS_CREDITED, params={"points": points}
        )


def hold_the_second_mail(mail_server: MailServer) -> tuple[threading.Event, threading.Event]:
    """The SMTP server keeps the second mail's DATA unanswered until `release` is set."""
    arrived, release = threading.Event(), threading.Event()

    def on_message(_message: object) -> None:
        if len(mail_server.received) == 1:  # the second one (the first is already recorded)
            arrived.set()
            release.wait(30)

    mail_server.on_message = on_message
    return arrived, release


async def wait_for(flag: threading.Event, seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not flag.is_set():  # noqa: ASYNC110 (set in the SMTP server's thread)
            await asyncio.sleep(0.02)


async def finished_deliveries() -> int:
    return await Delivery.filter(status__in=[DeliveryStatus.SENT, DeliveryStatus.FAILED]).count()


async def until_finished(count: int, seconds: float = 60) -> None:
    """Poll the table (the workers are other processes or tasks: no event to wait on)."""
    async with asyncio.timeout(seconds):
        while await finished_deliveries() < count:  # noqa: ASYNC110 (a table, not an event)
            await asyncio.sleep(0.1)


async def assert_each_sent_once_but_the_interrupted_second(
    mail_server: MailServer, members: list[Member]
) -> None:
    """Five mails, the second's worker gone mid-send: each member's address got exactly one
    mail, and the second delivery is recorded interrupted, never resent."""
    addresses = [mail["To"] for mail in mail_server.received]
    assert sorted(addresses) == sorted(member.email for member in members)
    rows = await Delivery.all().order_by("id").values_list("status", "last_error")
    assert rows == [
        (DeliveryStatus.SENT, None),
        (DeliveryStatus.FAILED, INTERRUPTED),
        *[(DeliveryStatus.SENT, None)] * 3,
    ]


async def test_a_worker_stopped_mid_send_leaves_the_rest_to_the_next_and_nothing_twice(
    app, settings, mail_server
):
    """A worker stopped while its second mail is being accepted (its shutdown cancels the
    send): that delivery is recorded FAILED "interrupted", never resent; a new worker (after a
    restart, on SQLite) sends the other three once."""
    members = [await create_member() for _ in range(5)]
    for member in members:
        await queue_points(member.id)
    configured = mail_settings(settings, mail_server)
    arrived, release = hold_the_second_mail(mail_server)

    async with job_app(configured) as first:
        await start_up(first, configured)
        options = worker_options(
            configured, concurrency=1, install_signal_handlers=False, shutdown_graceful_timeout=0
        )
        doomed = asyncio.create_task(first.run_worker_async(**options))
        await wait_for(arrived)
        doomed.cancel()
        await asyncio.gather(doomed, return_exceptions=True)
    release.set()
    mail_server.on_message = None

    await deliver_all(configured)

    await assert_each_sent_once_but_the_interrupted_second(mail_server, members)


def worker_environment(settings: Settings, mail_server: MailServer) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "MAIL_URL": f"smtp://127.0.0.1:{mail_server.port}?tls=none",
        "DELIVERY_RETRY_BASE": "0",
        "WORKER_CONCURRENCY": "1",
        "WORKER_POLL_INTERVAL": "PT0.2S",
        "OUTBOX_RELAY_INTERVAL": "PT1S",
        "JOB_HEARTBEAT_INTERVAL": "PT1S",
        "JOB_STALLED_AFTER": "PT3S",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
    }


@pytest.mark.postgres_only  # `bff worker` processes share jobs through PostgreSQL
async def test_a_bff_worker_killed_mid_batch_is_recovered_by_another_and_nothing_sent_twice(
    app, settings, mail_server
):
    """A real `bff worker` is SIGKILLed while the SMTP server holds its second mail: its
    heartbeat stops, a second `bff worker` runs that stalled job again (which records the
    delivery FAILED "interrupted", never resending it) and sends the other three, once."""
    members = [await create_member() for _ in range(5)]
    for member in members:
        await queue_points(member.id)
    environment = worker_environment(settings, mail_server)
    arrived, release = hold_the_second_mail(mail_server)
    doomed = await asyncio.create_subprocess_exec(str(BFF), "worker", env=environment)
    survivor = None
    try:
        await wait_for(arrived)
        doomed.kill()
        await doomed.wait()
        release.set()
        mail_server.on_message = None
        survivor = await asyncio.create_subprocess_exec(str(BFF), "worker", env=environment)
        await until_finished(len(members))
    finally:
        release.set()
        for process in (doomed, survivor):
            if process is not None and process.returncode is None:
                process.terminate()
                await process.wait()

    await assert_each_sent_once_but_the_interrupted_second(mail_server, members)


@pytest.mark.postgres_only  # two workers share one queue only in PostgreSQL
async def test_two_workers_side_by_side_deliver_every_message_once_and_in_order(
    app, settings, mail_server
):
    """Twenty notices for ten members, two procrastinate workers (four jobs at once each):
    twenty mails, none twice, each member's in the order they happened."""
    members = [await create_member() for _ in range(10)]
    for member in members:
        await queue_points(member.id, 1)
        await queue_points(member.id, 2)
    configured = mail_settings(settings, mail_server, worker_concurrency=4)

    async with job_app(configured) as one, job_app(configured) as two:
        await nudge_relay(one)
        workers = [
            asyncio.create_task(
                jobs.run_worker_async(
                    **worker_options(configured, name=name, install_signal_handlers=False)
                )
            )
            for name, jobs in (("one", one), ("two", two))
        ]
        try:
            await until_finished(20)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    assert len(mail_server.received) == 20
    for member in members:
        bodies = [mail.get_body(("plain",)).get_content() for mail in mail_server.to(member.email)]
        assert ["1" in body for body in bodies] == [True, False]  # 1 point, then 2
    assert await Notification.all().count() == 20


async def test_a_relay_run_again_or_every_delivery_deferred_twice_sends_each_once(
    app, settings, mail_server
):
    """Re-deferring is harmless: the outbox row is dispatched by a conditional update, a
    delivery's second job finds it SENT."""
    members = [await create_member() for _ in range(3)]
    for member in members:
        await queue_points(member.id)
    configured = mail_settings(settings, mail_server)

    async with job_app(configured) as jobs:
        await relay(jobs, configured)
        await relay(jobs, configured)
        await relay(jobs, configured, every_unfinished=True)
        await work(jobs, configured)
        await relay(jobs, configured, every_unfinished=True)
        await work(jobs, configured)

    assert sorted(mail["To"] for mail in mail_server.received) == sorted(
        member.email for member in members
    )
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == len(members)


async def test_a_committed_change_nudges_the_relay_of_an_open_job_app(app, settings, mail_server):
    """With a job app open in the process, the commit defers a relay job: the worker sends the
    mail without waiting for the periodic relay."""
    member = await create_member()
    configured = mail_settings(settings, mail_server, outbox_relay_interval=timedelta(hours=1))

    async with job_app(configured) as jobs:
        remove = outbox.relay_after_commit(lambda: nudge_relay(jobs))
        try:
            await queue_points(member.id, 3)
        finally:
            remove()
        relays = await jobs.job_manager.list_jobs_async(task="bff.relay_outbox", status="todo")
        await work(jobs, configured)

    assert relays
    assert len(mail_server.to(member.email)) == 1


async def test_a_new_device_sign_in_nudges_the_relay_itself_so_the_notice_goes_at_once(
    client, settings, mail_server
):
    """The login writes its NEW_SIGN_IN in a statement of its own, outside any events
    transaction: it nudges the relay itself, with no periodic relay waited for."""
    await create_member(email="nudge@example.com", password=PASSWORD)
    configured = mail_settings(settings, mail_server, outbox_relay_interval=timedelta(hours=1))

    async with job_app(configured) as jobs:
        remove = outbox.relay_after_commit(lambda: nudge_relay(jobs))
        try:
            await login(client, "nudge@example.com")  # no device cookie: a new device
        finally:
            remove()
        relays = await jobs.job_manager.list_jobs_async(task="bff.relay_outbox", status="todo")
        await work(jobs, configured)

    assert relays
    mails = mail_server.to("nudge@example.com")
    assert len(mails) == 1
    assert await OutboxMessage.filter(kind="NEW_SIGN_IN").count() == 1


async def test_the_daily_periodic_scan_announces_expiring_points_once_per_date(
    client, settings, mail_server
):
    """procrastinate's periodic scan, run by two worker starts: one POINTS_EXPIRING mail."""
    member = await create_member()
    number, _ = await issue_card(client)
    card = await Card.get(number=number)
    await attach_card(member_id=member.id, card_id=card.id, label=None, settings=settings)
    long_ago = (datetime.now(UTC) - timedelta(days=350)).isoformat()
    await buy(client, number, "100.00", occurredAt=long_ago)
    configured = mail_settings(settings, mail_server)

    await deliver_all(configured)
    await deliver_all(configured)

    expiring = await OutboxMessage.filter(kind="POINTS_EXPIRING").count()
    subjects = [mail["Subject"] for mail in mail_server.to(member.email)]
    assert expiring == 1
    assert subjects.count("Баллы скоро сгорят") == 1


async def age_finished_jobs(jobs: App, days: int) -> None:
    """Move the job events `days` into the past (procrastinate dates a finished job by them)."""
    if isinstance(jobs.connector, InMemoryConnector):
        for job_events in jobs.connector.events.values():
            for event in job_events:
                event["at"] -= timedelta(days=days)
        return
    await jobs.connector.execute_query_async(
        f"UPDATE procrastinate_events SET at = at - interval '{days} days'"
    )


async def test_the_daily_prune_deletes_old_dispatched_rows_finished_deliveries_and_jobs(
    app, settings, mail_server
):
    """Older than MESSAGES_RETENTION: dispatched outbox rows, finished deliveries and
    procrastinate's finished jobs go; a row not yet dispatched stays."""
    member = await create_member()
    await queue_points(member.id)
    configured = mail_settings(settings, mail_server)
    async with job_app(configured) as jobs:
        await start_up(jobs, configured)
        await work(jobs, configured)
        async with events.transaction():  # not dispatched yet (no relay runs below)
            await outbox.enqueue(member_id=member.id, kind=MessageKind.PASSWORD_CHANGED)
        long_ago = datetime.now(UTC) - timedelta(days=40)
        await Delivery.all().update(created_at=long_ago)
        await OutboxMessage.filter(dispatched_at__isnull=False).update(dispatched_at=long_ago)
        await age_finished_jobs(jobs, days=40)
        finished_before = len(await jobs.job_manager.list_jobs_async(status="succeeded"))

        await prune(jobs, configured, now=datetime.now(UTC))

        finished_after = len(await jobs.job_manager.list_jobs_async(status="succeeded"))

    assert await Delivery.all().count() == 0
    assert await OutboxMessage.all().values_list("kind", flat=True) == ["PASSWORD_CHANGED"]
    assert (finished_before > 0, finished_after) == (True, 0)


async def test_bff_serve_with_the_worker_in_process_delivers_right_after_the_commit(
    settings, migrated, tmp_path
):
    """WORKER_IN_PROCESS (development's default, `make run`): the app's own procrastinate
    worker sends the mail; the commit nudges the relay, so no relay interval is waited for;
    an outbox row committed while the server was down is sent at start-up."""
    configured = settings.model_copy(
        update={
            "worker_in_process": True,
            "mail_url": f"file://{tmp_path}",
            "outbox_relay_interval": timedelta(hours=1),
        }
    )
    await init_db(settings)  # the session's database (a test without the app fixture)
    member = await create_member()
    await queue_points(member.id, 4)  # committed while no server runs
    application = build_app(configured)
    try:
        async with LifespanManager(application):
            await wait_for_files(tmp_path, 1)
            await queue_points(member.id, 5)
            await wait_for_files(tmp_path, 2, seconds=5)
    finally:
        await init_db(settings)  # that shutdown closed the test session's database too
        await empty_tables()


async def wait_for_files(folder: Path, count: int, seconds: float = 15) -> None:
    def files() -> int:
        return len(list(folder.glob("*.eml")))

    async with asyncio.timeout(seconds):
        while await asyncio.to_thread(files) < count:  # noqa: ASYNC110 (files, not an event)
            await asyncio.sleep(0.05)
