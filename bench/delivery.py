"""Delivery throughput and latency: outbox row committed to mail accepted by an SMTP server.

A fresh PostgreSQL database gets MEMBERS members; WORKERS `bff worker` processes (procrastinate's
worker, CONCURRENCY jobs at once each) deliver to an SMTP server (aiosmtpd, in this process, on
127.0.0.1). MESSAGES POINTS_CREDITED notices (one per member, so every mail is matched to its
row) are committed in one burst and the relay is nudged, as a commit in `bff serve` does; the run
ends when all have been accepted. Prints the throughput (mails per second from the burst's
commit to the last mail), the latency of each mail (its row's created_at to the server's
receipt: p50/p90/p99) and when the relay had turned every row into deliveries with jobs.

    .venv/bin/python bench/delivery.py [--messages 1000] [--workers 2] [--concurrency 10]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres, where
a database is created and dropped). Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiosmtpd.controller import Controller

from bff.db.connection import close_db, init_db, migrate
from bff.identity.models import Member
from bff.messages.jobs import build_job_app, nudge_relay
from bff.outbox import MessageKind, OutboxMessage
from bff.outbox.models import Delivery
from bff.settings import Settings

ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BFF = Path(sys.executable).with_name("bff")
SMTP_PORT = int(os.environ.get("BENCH_SMTP_PORT", "8390"))


class Inbox:
    """Receipt times by recipient, written from the SMTP server's thread."""

    def __init__(self) -> None:
        self.received: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        del server, session
        now = time.time()
        with self.lock:
            for address in envelope.rcpt_tos:
                self.received.setdefault(address, now)
        return "250 OK"


async def run(messages: int, workers: int, concurrency: int) -> None:
    name = f"bff_bench_delivery_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(ADMIN_URL.replace("postgres://", "postgresql://"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    database_url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    processes: list[asyncio.subprocess.Process] = []
    try:
        await migrate(settings)
        await init_db(settings)
        now = datetime.now(UTC)
        await Member.bulk_create(
            [
                Member(
                    email=f"bench{n}@example.com",
                    first_name="Bench",
                    last_name="Member",
                    terms_version="2026-01",
                    terms_accepted_at=now,
                )
                for n in range(messages)
            ],
            batch_size=1000,
        )
        members = await Member.all().values_list("id", "email")
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "MAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}?tls=none",
            "WORKER_CONCURRENCY": str(concurrency),
            "LOG_LEVEL": "WARNING",
        }
        processes = [
            await asyncio.create_subprocess_exec(str(BFF), "worker", env=environment)
            for _ in range(workers)
        ]
        await asyncio.sleep(3)  # the workers start and find an empty outbox
        started = time.time()
        rows = [
            OutboxMessage(
                member_id=member_id,
                kind=MessageKind.POINTS_CREDITED.value,
                params={"points": 10},
                created_at=datetime.now(UTC),
            )
            for member_id, _ in members
        ]
        await OutboxMessage.bulk_create(rows, batch_size=1000)
        jobs = build_job_app(settings, pool_size=1)
        async with jobs.open_async():
            await nudge_relay(jobs)
        created = {email: started for _, email in members}
        deadline = started + 600
        relayed = None  # when every row had been dispatched into deliveries with jobs
        while len(inbox.received) < messages and time.time() < deadline:
            if all(process.returncode is not None for process in processes):
                raise SystemExit("every worker exited")
            if (
                relayed is None
                and not await Delivery.filter(job_id__isnull=True).exists()
                and not await OutboxMessage.filter(dispatched_at__isnull=True).exists()
            ):
                relayed = time.time() - started
            await asyncio.sleep(0.05)
        finished = max(inbox.received.values(), default=time.time())
        latencies = sorted(
            (inbox.received[email] - created[email]) * 1000
            for email in created
            if email in inbox.received
        )
        elapsed = finished - started
        quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
        print(
            f"{len(latencies)}/{messages} mails, {workers} worker(s), concurrency {concurrency}: "
            f"{len(latencies) / elapsed:.0f} mails/s over {elapsed:.1f} s; latency "
            f"p50 {quantiles[49]:.0f} ms, p90 {quantiles[89]:.0f} ms, "
            f"p99 {quantiles[98]:.0f} ms, max {latencies[-1]:.0f} ms; "
            f"outbox relayed in {relayed if relayed is not None else float('nan'):.1f} s"
        )
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            await asyncio.wait_for(process.wait(), 30)
        controller.stop()
        await close_db()
        admin = await asyncpg.connect(ADMIN_URL.replace("postgres://", "postgresql://"))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.workers, args.concurrency))


if __name__ == "__main__":
    main()
