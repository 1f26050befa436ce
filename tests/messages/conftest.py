"""A real SMTP server (aiosmtpd) and a stand-in for the push service, both on loopback ports
of this suite's range, and workers that deliver to them."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from procrastinate import App
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bff.messages.jobs import build_job_app, start_up, worker_options
from bff.settings import Settings

# The ports this suite's servers may use (ports of other suites' servers stay free).
PORTS = range(8500, 8600)


@dataclass
class MailServer:
    """What the SMTP server received, and how it answers: `rcpt_reply` / `data_reply` map an
    address to a reply for its next attempts (popped from the list; 250 when empty)."""

    port: int = 0
    received: list[EmailMessage] = field(default_factory=list)
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)
    # Called (in the server's thread) with each message before it is answered.
    on_message: Callable[[EmailMessage], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        del server, session, options
        with self.lock:
            replies = self.rcpt_replies.get(address)
            if replies:
                return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        del server, session
        with self.lock:
            if self.data_replies:
                return self.data_replies.pop(0)
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        if self.on_message is not None:
            self.on_message(message)
        with self.lock:
            self.received.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [message for message in self.received if message["To"] == address]


def started_smtp(server: MailServer) -> Controller:
    """aiosmtpd listening on a free port of PORTS. A port free when probed can be taken before
    the bind (another suite probes the same range): the next one is tried, and the failed
    controller's own event loop is closed."""
    for port in PORTS:
        controller = Controller(server, hostname="127.0.0.1", port=port)
        try:
            controller.start()
        except OSError:
            controller.loop.close()
            continue
        server.port = port
        return controller
    raise RuntimeError("no free port in 8500-8599")


@pytest.fixture
async def mail_server() -> AsyncIterator[MailServer]:
    server = MailServer()
    controller = started_smtp(server)
    try:
        yield server
    finally:
        controller.stop()


@dataclass
class PushService:
    """The stand-in push API: records each POST; tokens in `gone` answer 410."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)


@pytest.fixture
async def push_service() -> AsyncIterator[PushService]:
    service = PushService()

    async def send(request: Request) -> JSONResponse:
        payload = await request.json()
        service.authorizations.append(request.headers.get("authorization"))
        if payload["to"] in service.gone:
            return JSONResponse({"error": "unregistered"}, status_code=410)
        service.received.append(payload)
        return JSONResponse({"id": len(service.received)})

    app = Starlette(routes=[Route("/send", send, methods=["POST"])])
    # Bound here, then served: no other process can take the port between probe and bind.
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve(sockets=[listening]))
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
            await asyncio.sleep(0.01)
    service.url = f"http://127.0.0.1:{port}/send"
    yield service
    server.should_exit = True
    await task
    listening.close()


def mail_settings(settings: Settings, mail_server: MailServer, **changes: Any) -> Settings:
    """The suite's settings delivering to the test SMTP server, retrying at once."""
    update: dict[str, Any] = {
        "mail_url": f"smtp://127.0.0.1:{mail_server.port}?tls=none",
        "delivery_retry_base": timedelta(0),
        **changes,
    }
    return settings.model_copy(update=update)


@asynccontextmanager
async def job_app(settings: Settings) -> AsyncIterator[App]:
    """procrastinate's app for these settings, open (in memory on SQLite, psycopg on
    PostgreSQL)."""
    app = build_job_app(settings, pool_size=6)
    async with app.open_async():
        yield app


async def due_jobs(app: App) -> int:
    now = datetime.now(UTC)
    todo = await app.job_manager.list_jobs_async(status="todo")
    return sum(1 for job in todo if job.scheduled_at is None or job.scheduled_at <= now)


async def work(app: App, settings: Settings, rounds: int = 10, **options: Any) -> None:
    """procrastinate's real worker, run until no job is due (or `rounds` runs)."""
    for _ in range(rounds):
        await app.run_worker_async(
            **worker_options(settings, wait=False, install_signal_handlers=False, **options)
        )
        if not await due_jobs(app):
            return


async def deliver_all(settings: Settings, rounds: int = 10) -> None:
    """A worker starting (the relay takes the outbox), then working until nothing is due."""
    async with job_app(settings) as app:
        await start_up(app, settings)
        await work(app, settings, rounds)
