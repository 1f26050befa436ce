"""The senders behind the channels: mail (SMTP or a folder, from MAIL_URL) and push (the
mobile push service's HTTP API). A sender raises `TransientDeliveryError` (try again later) or
`PermanentDeliveryError` (never again)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import httpx

SMTP_PORT = 587
SMTPS_PORT = 465
SMTP_TIMEOUT_SECONDS = 30.0
PUSH_TIMEOUT_SECONDS = 10.0
_PERMANENT_SMTP = range(500, 600)
_PERMANENT_HTTP = range(400, 500)
_TOO_MANY_REQUESTS = 429


class TransientDeliveryError(Exception):
    """Delivery failed for now: procrastinate runs the job again after a backoff."""


class PermanentDeliveryError(Exception):
    """The service refused the message for good: recorded, never retried."""


class MailSender(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class PushSender(Protocol):
    async def send(self, *, token: str, platform: str, title: str, body: str) -> None: ...


class SmtpSender:
    """SMTP submission: `smtp://` upgrades with STARTTLS (required), `smtps://` is TLS from the
    first byte; `?tls=none` sends in clear (a local relay or a test server only).

    One connection is kept and reused while messages keep coming (a worker's batch); one idle
    for REUSE_SECONDS, or after any error, is replaced by a new one before the next message,
    so a send never goes to a connection the server may have timed out."""

    REUSE_SECONDS = 10.0

    def __init__(
        self,
        *,
        hostname: str,
        port: int,
        username: str | None,
        password: str | None,
        use_tls: bool,
        start_tls: bool,
    ) -> None:
        self.hostname = hostname
        self.port = port
        self.username = username
        self.password = password
        self.use_tls = use_tls
        self.start_tls = start_tls
        self._client: aiosmtplib.SMTP | None = None
        self._last_used = 0.0
        self._lock = asyncio.Lock()

    async def _connection(self) -> aiosmtplib.SMTP:
        fresh = time.monotonic() - self._last_used < self.REUSE_SECONDS
        if self._client is not None and self._client.is_connected and fresh:
            return self._client
        await self._drop()
        client = aiosmtplib.SMTP(
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            timeout=SMTP_TIMEOUT_SECONDS,
        )
        await client.connect()
        self._client = client
        return client

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            with contextlib.suppress(Exception):
                await client.quit()

    async def send(self, message: EmailMessage) -> None:
        async with self._lock:
            try:
                client = await self._connection()
                await client.send_message(message)
            except aiosmtplib.SMTPRecipientsRefused as error:
                await self._drop()
                codes = [refusal.code for refusal in error.recipients]
                if codes and all(code in _PERMANENT_SMTP for code in codes):
                    raise PermanentDeliveryError(f"recipient refused ({codes[0]})") from None
                raise TransientDeliveryError(f"recipient deferred ({codes})") from None
            except aiosmtplib.SMTPResponseException as error:
                await self._drop()
                if error.code in _PERMANENT_SMTP:
                    raise PermanentDeliveryError(f"SMTP {error.code}") from None
                raise TransientDeliveryError(f"SMTP {error.code}") from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                await self._drop()
                raise TransientDeliveryError(f"SMTP unavailable: {type(error).__name__}") from None
            self._last_used = time.monotonic()


_sequence = itertools.count()


@dataclass(frozen=True)
class FolderSender:
    """Each message an `.eml` file in a folder (development: `make run` prints where)."""

    folder: Path

    async def send(self, message: EmailMessage) -> None:
        name = f"{time.time_ns()}-{os.getpid()}-{next(_sequence)}.eml"
        await asyncio.to_thread(self._write, self.folder / name, bytes(message))

    def _write(self, path: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(path)  # readers never see half a message


def mail_sender(url: str) -> MailSender:
    """The sender MAIL_URL names: smtp://user:password@host:587, smtps://..., file://folder."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FolderSender(Path(unquote(parts.netloc + parts.path)))
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError("MAIL_URL must start with smtp://, smtps:// or file://")
    implicit = parts.scheme == "smtps"
    clear = parse_qs(parts.query).get("tls") == ["none"]
    return SmtpSender(
        hostname=parts.hostname or "localhost",
        port=parts.port or (SMTPS_PORT if implicit else SMTP_PORT),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=implicit,
        start_tls=False if implicit or clear else True,  # noqa: SIM211 (None would be "maybe")
    )


def mail_folder(url: str) -> Path | None:
    """The folder of a file:// MAIL_URL (None for SMTP)."""
    sender = mail_sender(url)
    return sender.folder.resolve() if isinstance(sender, FolderSender) else None


@dataclass
class HttpPushSender:
    """POSTs `{"to", "platform", "title", "body"}` to PUSH_URL with the key as a bearer token.
    2xx is sent; 429 and 5xx are tried again; any other 4xx (a dead token) is permanent."""

    url: str
    api_key: str | None
    client: httpx.AsyncClient | None = None

    async def send(self, *, token: str, platform: str, title: str, body: str) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        payload = {"to": token, "platform": platform, "title": title, "body": body}
        client = self.client or httpx.AsyncClient(timeout=PUSH_TIMEOUT_SECONDS)
        try:
            response = await client.post(self.url, json=payload, headers=headers)
        except httpx.HTTPError as error:
            raise TransientDeliveryError(f"push unavailable: {type(error).__name__}") from None
        finally:
            if self.client is None:
                await client.aclose()
        status = response.status_code
        if status in _PERMANENT_HTTP and status != _TOO_MANY_REQUESTS:
            raise PermanentDeliveryError(f"push refused ({status})")
        if not response.is_success:
            raise TransientDeliveryError(f"push failed ({status})")
