"""The delivery worker: dispatches the outbox, then sends due deliveries with leases, retries
and backoff. Any number of workers (processes, or a task inside `bff serve`) share the tables.

A delivery is claimed with a lease by a conditional UPDATE (one winner), marked SENDING just
before it goes out, and SENT or FAILED after. A worker that dies leaves CLAIMED rows, which go
back to the queue when their lease passes; a row it left SENDING may have reached the service,
so it is recorded FAILED ("interrupted"), never sent twice: at most once per message and
channel. Per member and channel, a delivery waits until the older ones are done (in order).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.expressions import F, Q

from bff import metrics, outbox
from bff.messages.channels import (
    HttpPushSender,
    MailSender,
    PermanentDeliveryError,
    PushSender,
    TransientDeliveryError,
    mail_sender,
)
from bff.messages.dispatch import CATEGORY, Category, dispatch
from bff.messages.expiring import queue_expiring_points
from bff.messages.models import PushDevice
from bff.messages.texts import email_message, render
from bff.messages.unsubscribe import unsubscribe_url
from bff.outbox import MessageKind, OutboxMessage
from bff.outbox.models import Delivery, DeliveryChannel, DeliveryStatus
from bff.settings import Settings

logger = logging.getLogger("bff.messages")

_UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)
_LINKS = {
    MessageKind.EMAIL_VERIFICATION: "/verify-email",
    MessageKind.PASSWORD_RESET: "/reset-password",
    MessageKind.EMAIL_CHANGE_CONFIRMATION: "/confirm-email",
}
# The web portal serves its app at these paths too (bff/portal.py).
LINK_PATHS = tuple(_LINKS.values())
MAX_BACKOFF_SECONDS = 6 * 3600


def _claimable(now: datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.CLAIMED, lease_until__lt=now
    )


class Worker:
    """`run_once()` does one round; `run(stop)` loops until `stop` is set."""

    def __init__(
        self,
        settings: Settings,
        *,
        mail: MailSender | None = None,
        push: PushSender | None = None,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.mail = mail or mail_sender(settings.mail_url)
        key = settings.push_api_key.get_secret_value() if settings.push_api_key else None
        self.push = push or (HttpPushSender(settings.push_url, key) if settings.push_url else None)
        self.name = name or f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(3)}"
        self._scanned_on: date | None = None

    async def run(self, stop: asyncio.Event) -> None:
        logger.info("messages worker %s started", self.name)
        interval = self.settings.worker_poll_interval.total_seconds()
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except Exception:
                logger.exception("messages worker round failed")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)
        logger.info("messages worker %s stopped", self.name)

    async def run_once(self, now: datetime | None = None) -> bool:
        """Scan for expiring points (once a day), dispatch, deliver; True if anything moved."""
        now = now or datetime.now(UTC)
        if self._scanned_on != now.date():
            await queue_expiring_points(now=now, settings=self.settings)
            self._scanned_on = now.date()
        dispatched = await self.dispatch_pending(now)
        delivered = await self.deliver_due(now)
        return bool(dispatched or delivered)

    async def dispatch_pending(self, now: datetime) -> int:
        rows = await (
            OutboxMessage.filter(dispatched_at__isnull=True)
            .order_by("id")
            .limit(self.settings.worker_batch_size)
            .values("id")
        )
        ids = [int(row["id"]) for row in rows]
        for message_id in ids:
            await dispatch(message_id, settings=self.settings, now=now)
        return len(ids)

    async def claim(self, now: datetime) -> list[Delivery]:
        """A batch of due deliveries, leased to this worker; interrupted sends are closed."""
        await Delivery.filter(status=DeliveryStatus.SENDING, lease_until__lt=now).update(
            status=DeliveryStatus.FAILED, last_error="interrupted while sending; not resent"
        )
        size = self.settings.worker_batch_size
        candidates = await Delivery.filter(_claimable(now)).order_by("id").limit(size * 4)
        if not candidates:
            return []
        # Only the oldest unfinished delivery of each member and channel may go.
        members = {candidate.member_id for candidate in candidates}
        first: dict[tuple[int | None, str], int] = {}
        rows = await Delivery.filter(status__in=_UNFINISHED, member_id__in=members).values_list(
            "id", "member_id", "channel"
        )
        for row_id, member_id, channel in rows:
            key = (member_id, str(channel))
            first[key] = min(first.get(key, row_id), row_id)
        lease_until = now + self.settings.delivery_lease
        claimed: list[Delivery] = []
        for candidate in candidates:
            if len(claimed) >= size:
                break
            if first.get((candidate.member_id, str(candidate.channel))) != candidate.id:
                continue
            won = await Delivery.filter(_claimable(now), id=candidate.id).update(
                status=DeliveryStatus.CLAIMED, lease_owner=self.name, lease_until=lease_until
            )
            if won:
                claimed.append(candidate)
        return claimed

    async def deliver_due(self, now: datetime) -> int:
        claimed = await self.claim(now)
        for delivery in claimed:
            await self.deliver(delivery)
        return len(claimed)

    async def deliver(self, delivery: Delivery) -> None:
        now = datetime.now(UTC)
        started = await Delivery.filter(
            id=delivery.id, status=DeliveryStatus.CLAIMED, lease_owner=self.name
        ).update(
            status=DeliveryStatus.SENDING,
            attempts=F("attempts") + 1,
            lease_until=now + self.settings.delivery_lease,
        )
        if not started:
            return  # the lease passed and another worker has it
        attempts = delivery.attempts + 1
        try:
            await self._send(delivery)
        except TransientDeliveryError as failure:
            await self._retry_or_fail(delivery, attempts=attempts, error=str(failure))
        except PermanentDeliveryError as failure:
            await self._finish(delivery, DeliveryStatus.FAILED, error=str(failure))
            if delivery.channel is DeliveryChannel.PUSH:
                await PushDevice.filter(token=delivery.address).delete()
        except Exception as error:
            logger.exception("delivery %s failed unexpectedly", delivery.id)
            await self._retry_or_fail(delivery, attempts=attempts, error=type(error).__name__)
        else:
            await self._finish(delivery, DeliveryStatus.SENT)

    async def _retry_or_fail(self, delivery: Delivery, *, attempts: int, error: str) -> None:
        if attempts >= self.settings.delivery_max_attempts:
            await self._finish(delivery, DeliveryStatus.FAILED, error=f"gave up: {error}")
            return
        base = self.settings.delivery_retry_base.total_seconds()
        delay = min(MAX_BACKOFF_SECONDS, base * 2 ** (attempts - 1))
        await Delivery.filter(id=delivery.id, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=datetime.now(UTC) + timedelta(seconds=delay),
            lease_owner=None,
            lease_until=None,
            last_error=error[:500],
        )
        metrics.DELIVERIES.labels(channel=delivery.channel.value, outcome="retry").inc()
        logger.warning("delivery %s failed (%s); attempt %s", delivery.id, error, attempts)

    async def _finish(
        self, delivery: Delivery, status: DeliveryStatus, *, error: str | None = None
    ) -> None:
        now = datetime.now(UTC)
        # The sealed token leaves with the mail: nothing usable stays behind.
        await Delivery.filter(id=delivery.id, status=DeliveryStatus.SENDING).update(
            status=status,
            sent_at=now if status is DeliveryStatus.SENT else None,
            last_error=None if error is None else error[:500],
            lease_owner=None,
            lease_until=None,
            params={},
        )
        outcome = "sent" if status is DeliveryStatus.SENT else "failed"
        metrics.DELIVERIES.labels(channel=delivery.channel.value, outcome=outcome).inc()

    async def _send(self, delivery: Delivery) -> None:
        kind = MessageKind(delivery.kind)
        params: dict[str, Any] = dict(delivery.params)
        if delivery.channel is DeliveryChannel.PUSH:
            if self.push is None:
                raise PermanentDeliveryError("push is not configured (PUSH_URL)")
            text = render(kind, delivery.language, params)
            device = await PushDevice.get_or_none(token=delivery.address)
            if device is None:
                raise PermanentDeliveryError("device unregistered")
            await self.push.send(
                token=delivery.address,
                platform=device.platform.value,
                title=text.title,
                body=text.body,
            )
            return
        if "secret" in params:
            token = outbox.reveal_secret(str(params.pop("secret")), settings=self.settings)
            params["link"] = f"{self.settings.portal_url}{_LINKS[kind]}?token={token}"
        unsubscribe = None
        if CATEGORY[kind] is Category.MARKETING and delivery.member_id is not None:
            unsubscribe = unsubscribe_url(member_id=delivery.member_id, settings=self.settings)
        message = email_message(
            kind=kind,
            language=delivery.language,
            params=params,
            sender=self.settings.mail_from,
            to=delivery.address,
            unsubscribe_url=unsubscribe,
        )
        await self.mail.send(message)


async def run_in_process(settings: Settings, stop: asyncio.Event) -> None:
    """The worker inside `bff serve` (WORKER_IN_PROCESS): same code as `bff worker`."""
    await Worker(settings).run(stop)
