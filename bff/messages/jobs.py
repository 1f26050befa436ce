"""Background work on procrastinate: the outbox relay, deliveries, the daily scans.

- **relay** (`bff.relay_outbox`, every OUTBOX_RELAY_INTERVAL and right after a commit that
  queued messages): dispatches each committed outbox row once (bff.messages.dispatch, a
  conditional update) and defers one `bff.deliver` job per delivery without one, noting its id
  in `delivery.job_id`. One relay runs at a time (its lock), one waits at most (queueing lock).
- **deliver** (`bff.deliver`): sends one delivery (bff.messages.delivery); its lock
  `delivery:<member>:<channel>` keeps a member's messages on a channel one at a time, in order;
  transient failures are retried by procrastinate (DeliveryRetry).
- **retry stalled jobs** (`bff.retry_stalled_jobs`): jobs of a worker whose heartbeat stopped
  JOB_STALLED_AFTER ago run again (procrastinate's documented recipe).
- daily: the expiring-points scan and the prune (MESSAGES_RETENTION).

PostgreSQL keeps the jobs in procrastinate's tables (psycopg pool; schema by migration 0008);
SQLite runs one process, so its jobs live in memory (InMemoryConnector) and `start_up` gives
every unfinished delivery a job again after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from procrastinate import App, PsycopgConnector, exceptions
from procrastinate.connector import BaseConnector
from procrastinate.testing import InMemoryConnector
from tortoise.queryset import QuerySet

from bff import outbox
from bff.messages.channels import MailSender, PushSender
from bff.messages.delivery import DeliveryRetry, Sender
from bff.messages.dispatch import dispatch
from bff.messages.expiring import queue_expiring_points
from bff.outbox import OutboxMessage
from bff.outbox.models import Delivery, DeliveryStatus
from bff.settings import Settings, get_settings

logger = logging.getLogger("bff.messages")

RELAY = "bff.relay_outbox"
DELIVER = "bff.deliver"
RELAY_BATCH = 500  # outbox rows per relay run; a full batch defers the next run at once
RELAY_CHUNK = 50  # outbox rows dispatched before their deliveries get jobs
RELAY_CONCURRENCY = 4  # members dispatched at once (each its own transaction)
DAY_SECONDS = 24 * 3600
DAILY_SCAN_CRON = "5 0 * * *"  # 00:05 UTC
DAILY_PRUNE_CRON = "35 0 * * *"
_FINISHED = (DeliveryStatus.SENT, DeliveryStatus.FAILED)


def conninfo(database_url: str) -> str:
    """psycopg's connection string for DATABASE_URL (Tortoise's query options dropped)."""
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


def every(interval: timedelta) -> str:
    """A cron expression (seconds in the 6th column) firing about every `interval`."""
    seconds = max(1, round(interval.total_seconds()))
    if seconds < 60:  # noqa: PLR2004 (a minute)
        return f"* * * * * */{seconds}"
    return f"*/{min(59, seconds // 60)} * * * *"


class InOrderMemoryConnector(InMemoryConnector):
    """procrastinate's in-memory connector, fetching the way its PostgreSQL function does: a
    job waits while an earlier job of its lock waits or runs, so a retry keeps the order."""

    async def fetch_job_one(self, queues: Iterable[str] | None, worker_id: int) -> dict[str, Any]:
        first: dict[str, int] = {}
        for job in self.jobs.values():
            lock = job["lock"]
            if lock is not None and job["status"] in {"todo", "doing"}:
                first[lock] = min(first.get(lock, job["id"]), job["id"])
        held_back = [
            job
            for job in self.jobs.values()
            if job["status"] == "todo"
            and job["lock"] is not None
            and first[job["lock"]] != job["id"]
        ]
        for job in held_back:  # hidden from the selection below (it awaits nothing)
            job["status"] = "held"
        try:
            return await super().fetch_job_one(queues, worker_id)
        finally:
            for job in held_back:
                job["status"] = "todo"


def _connector(settings: Settings, pool_size: int) -> BaseConnector:
    if settings.uses_sqlite:
        return InOrderMemoryConnector()
    return PsycopgConnector(
        conninfo=conninfo(settings.database_url), min_size=1, max_size=pool_size
    )


def build_job_app(
    settings: Settings,
    *,
    mail: MailSender | None = None,
    push: PushSender | None = None,
    pool_size: int | None = None,
) -> App:
    """procrastinate's App with this project's tasks, for these settings (not yet open)."""
    size = pool_size or settings.worker_concurrency + 3  # jobs, LISTEN, heartbeat, deferrer
    # A daily job missed while no worker ran is deferred when one starts, once per day.
    app = App(connector=_connector(settings, size), periodic_defaults={"max_delay": DAY_SECONDS})
    sender = Sender(settings, mail=mail, push=push)
    stalled_after = settings.job_stalled_after.total_seconds()

    @app.task(name=DELIVER, queue="deliveries", retry=DeliveryRetry(settings))
    async def deliver(delivery_id: int) -> None:
        await sender.deliver(delivery_id)

    @app.periodic(cron=every(settings.outbox_relay_interval), periodic_id="relay")
    @app.task(name=RELAY, queue="relay", lock="outbox-relay", queueing_lock="outbox-relay")
    async def relay_outbox(timestamp: int | None = None) -> None:
        del timestamp
        if await relay(app, settings) >= RELAY_BATCH:
            await nudge_relay(app)

    @app.periodic(cron=every(settings.job_stalled_after / 3), periodic_id="stalled")
    @app.task(name="bff.retry_stalled_jobs", queue="maintenance", queueing_lock="stalled")
    async def retry_stalled_jobs(timestamp: int) -> None:
        del timestamp
        stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after)
        for job in stalled:
            logger.warning("job %s (%s) of a dead worker runs again", job.id, job.task_name)
            await app.job_manager.retry_job(job)

    @app.periodic(cron=DAILY_SCAN_CRON, periodic_id="daily")
    @app.task(name="bff.scan_expiring_points", queue="maintenance")
    async def scan_expiring_points(timestamp: int) -> None:
        del timestamp
        if await queue_expiring_points(now=datetime.now(UTC), settings=settings):
            await nudge_relay(app)

    @app.periodic(cron=DAILY_PRUNE_CRON, periodic_id="daily")
    @app.task(name="bff.prune_messages", queue="maintenance")
    async def prune_messages(timestamp: int) -> None:
        del timestamp
        await prune(app, settings, now=datetime.now(UTC))

    return app


async def nudge_relay(app: App) -> None:
    """Ask for a relay run soon; one already waiting is enough."""
    with contextlib.suppress(exceptions.AlreadyEnqueued):
        await app.tasks[RELAY].defer_async()


async def relay(app: App, settings: Settings, *, every_unfinished: bool = False) -> int:
    """Dispatch up to RELAY_BATCH committed outbox rows (each once), deferring a delivery job
    for every delivery without one after each RELAY_CHUNK rows (sending starts while the relay
    goes on); `every_unfinished` defers one for every unfinished delivery (the in-memory queue
    after a restart). Returns the outbox rows taken."""
    now = datetime.now(UTC)
    if every_unfinished:
        unfinished = [DeliveryStatus.PENDING, DeliveryStatus.SENDING]
        await _defer_deliveries(app, Delivery.filter(status__in=unfinished))
    rows = (
        await OutboxMessage.filter(dispatched_at__isnull=True)
        .order_by("id")
        .limit(RELAY_BATCH)
        .values_list("id", "member_id")
    )
    for start in range(0, len(rows), RELAY_CHUNK):
        await _dispatch_chunk(rows[start : start + RELAY_CHUNK], settings=settings, now=now)
        await _defer_deliveries(app, Delivery.filter(status=DeliveryStatus.PENDING, job_id=None))
    # Deliveries a relay that died between dispatch and defer left without a job.
    await _defer_deliveries(app, Delivery.filter(status=DeliveryStatus.PENDING, job_id=None))
    return len(rows)


async def _dispatch_chunk(
    rows: list[tuple[Any, Any]], *, settings: Settings, now: datetime
) -> None:
    """Dispatch rows, a few members at once; each member's rows one after another, in order
    (so their deliveries, and the jobs deferred for them, keep that order)."""
    by_member: dict[Any, list[int]] = {}
    for message_id, member_id in rows:
        by_member.setdefault(member_id, []).append(int(message_id))
    gate = asyncio.Semaphore(1 if settings.uses_sqlite else RELAY_CONCURRENCY)

    async def one_member(message_ids: list[int]) -> None:
        async with gate:
            for message_id in message_ids:
                await dispatch(message_id, settings=settings, now=now)

    async with asyncio.TaskGroup() as group:
        for message_ids in by_member.values():
            group.create_task(one_member(message_ids))


async def _defer_deliveries(app: App, waiting: QuerySet[Delivery]) -> None:
    """One `bff.deliver` job per delivery, oldest first, locked per member and channel."""
    deliveries = await waiting.order_by("id")
    if not deliveries:
        return
    task = app.tasks[DELIVER]
    jobs = [
        task.configure(lock=f"delivery:{row.member_id}:{row.channel.value}").job.evolve(
            task_kwargs={"delivery_id": row.id}
        )
        for row in deliveries
    ]
    deferred = await app.job_manager.batch_defer_jobs_async(jobs)
    for row, job in zip(deliveries, deferred, strict=True):
        row.job_id = job.id
    await Delivery.bulk_update(deliveries, fields=["job_id"], batch_size=500)


async def prune(app: App, settings: Settings, *, now: datetime) -> None:
    """Delete what is older than MESSAGES_RETENTION: dispatched outbox rows (a scan's dedup
    row only once its expiry date cannot come round again), finished deliveries, and
    procrastinate's finished jobs."""
    cutoff = now - settings.messages_retention
    dedup_cutoff = min(cutoff, now - settings.points_expiring_soon - timedelta(days=1))
    await OutboxMessage.filter(dispatched_at__lt=cutoff, dedup_key__isnull=True).delete()
    await OutboxMessage.filter(dispatched_at__lt=dedup_cutoff, dedup_key__isnull=False).delete()
    await Delivery.filter(status__in=_FINISHED, created_at__lt=cutoff).delete()
    await app.job_manager.delete_old_jobs(
        nb_hours=max(1, int(settings.messages_retention.total_seconds() // 3600)),
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )


def worker_options(settings: Settings, *, name: str | None = None, **changes: Any) -> Any:  # noqa: ANN401 (procrastinate's WorkerOptions)
    """`run_worker_async` options from the settings (one job at a time on SQLite)."""
    options: dict[str, Any] = {
        "name": name or f"{os.uname().nodename}:{os.getpid()}",
        "concurrency": 1 if settings.uses_sqlite else settings.worker_concurrency,
        "fetch_job_polling_interval": settings.worker_poll_interval.total_seconds(),
        "update_heartbeat_interval": settings.job_heartbeat_interval.total_seconds(),
        "stalled_worker_timeout": settings.job_stalled_after.total_seconds(),
        "shutdown_graceful_timeout": 30.0,
    }
    options.update(changes)
    return options


async def start_up(app: App, settings: Settings) -> None:
    """Before a worker runs: on the in-memory queue (SQLite), everything unfinished gets a
    job again (the queue did not survive the restart); on PostgreSQL the relay is nudged."""
    if isinstance(app.connector, InMemoryConnector):
        taken = await relay(app, settings, every_unfinished=True)
        while taken >= RELAY_BATCH:
            taken = await relay(app, settings)
    else:
        await nudge_relay(app)


@asynccontextmanager
async def running_jobs(
    settings: Settings, *, work: bool, pool_size: int | None = None
) -> AsyncIterator[App]:
    """The job app open in this process: commits that queue messages nudge the relay, and
    with `work` a worker runs beside (WORKER_IN_PROCESS, stopped on exit)."""
    app = build_job_app(settings, pool_size=pool_size or (None if work else 2))
    async with app.open_async():
        remove_hook = outbox.relay_after_commit(lambda: nudge_relay(app))
        task: asyncio.Task[None] | None = None
        try:
            if work:
                await start_up(app, settings)
                options = worker_options(settings, install_signal_handlers=False)
                task = asyncio.create_task(app.run_worker_async(**options))
            yield app
        finally:
            remove_hook()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def run_worker(settings: Settings) -> None:
    """`bff worker`: procrastinate's worker until SIGINT or SIGTERM (it finishes the jobs it
    runs, 30 s at most)."""
    app = build_job_app(settings)
    async with app.open_async():
        remove_hook = outbox.relay_after_commit(lambda: nudge_relay(app))
        try:
            await start_up(app, settings)
            await app.run_worker_async(**worker_options(settings))
        finally:
            remove_hook()


def __getattr__(name: str) -> Any:  # noqa: ANN401 (module attribute protocol)
    # procrastinate's own command line (`PROCRASTINATE_APP=bff.messages.jobs.cli_app
    # procrastinate shell`) loads an App by dotted path: built lazily from the environment, so
    # importing this module never reads it.
    if name == "cli_app":
        return build_job_app(get_settings(), pool_size=2)
    raise AttributeError(name)
