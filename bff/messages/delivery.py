"""Sending one delivery (one message, one channel, one address): at most once.

A delivery's job (bff.messages.jobs) marks the row SENDING just before it hands the message to
the mail or push service, then SENT or FAILED. Jobs of one member and channel hold the same
procrastinate lock, so they run one at a time and in order: a job that finds its row SENDING
runs after one that died while sending. That mail may have left, so the row is recorded FAILED
("interrupted"), never sent again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from procrastinate import BaseRetryStrategy, RetryDecision, RetryStrategy
from procrastinate.jobs import Job
from tortoise.expressions import F

from bff import metrics, outbox
from bff.messages.channels import (
    HttpPushSender,
    MailSender,
    PermanentDeliveryError,
    PushSender,
    TransientDeliveryError,
    mail_sender,
)
from bff.messages.dispatch import CATEGORY, Category
from bff.messages.models import PushDevice
from bff.messages.texts import email_message, render
from bff.messages.unsubscribe import unsubscribe_url
from bff.outbox import MessageKind
from bff.outbox.models import Delivery, DeliveryChannel, DeliveryStatus
from bff.settings import Settings

logger = logging.getLogger("bff.messages")

_LINKS = {
    MessageKind.EMAIL_VERIFICATION: "/verify-email",
    MessageKind.PASSWORD_RESET: "/reset-password",
    MessageKind.EMAIL_CHANGE_CONFIRMATION: "/confirm-email",
}
# The web portal serves its app at these paths too (bff/portal.py).
LINK_PATHS = tuple(_LINKS.values())
MAX_BACKOFF = timedelta(hours=6)
INTERRUPTED = "interrupted while sending; not resent"


class DeliveryRetry(BaseRetryStrategy):
    """procrastinate's RetryStrategy decides whether (a TransientDeliveryError, attempts left);
    the wait is DELIVERY_RETRY_BASE doubling per attempt, 6 h at most."""

    def __init__(self, settings: Settings) -> None:
        self.base = settings.delivery_retry_base
        self.whether = RetryStrategy(
            max_attempts=max(1, settings.delivery_max_attempts - 1),
            retry_exceptions=[TransientDeliveryError],
        )

    def wait(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failure (1 for the first)."""
        wait: timedelta = self.base * 2 ** max(0, attempts - 1)
        return min(MAX_BACKOFF, wait)

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if self.whether.get_retry_decision(exception=exception, job=job) is None:
            return None
        return RetryDecision(retry_at=datetime.now(UTC) + self.wait(job.attempts + 1))


class Sender:
    """Sends deliveries by id; the senders come from MAIL_URL and PUSH_URL unless given."""

    def __init__(
        self,
        settings: Settings,
        *,
        mail: MailSender | None = None,
        push: PushSender | None = None,
    ) -> None:
        self.settings = settings
        self.mail = mail or mail_sender(settings.mail_url)
        key = settings.push_api_key.get_secret_value() if settings.push_api_key else None
        self.push = push or (HttpPushSender(settings.push_url, key) if settings.push_url else None)

    async def deliver(self, delivery_id: int) -> None:
        """Send it unless it is finished; raise TransientDeliveryError (the row back to
        PENDING) when it should be tried again later."""
        delivery = await Delivery.get_or_none(id=delivery_id)
        if delivery is None or delivery.status in {DeliveryStatus.SENT, DeliveryStatus.FAILED}:
            return  # done already, or erased with its member's account
        if delivery.status is DeliveryStatus.SENDING:
            await self._finish(delivery, DeliveryStatus.FAILED, error=INTERRUPTED)
            logger.warning("delivery %s was interrupted while sending; not resent", delivery.id)
            return
        started = await Delivery.filter(id=delivery.id, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.SENDING, attempts=F("attempts") + 1
        )
        if not started:
            return
        attempts = delivery.attempts + 1
        try:
            await self._send(delivery)
        except asyncio.CancelledError:
            # Stopped mid-send (a worker's shutdown ran out of time): the mail may have left.
            await asyncio.shield(self._finish(delivery, DeliveryStatus.FAILED, error=INTERRUPTED))
            raise
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
        await Delivery.filter(id=delivery.id, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.PENDING, last_error=error[:500]
        )
        metrics.DELIVERIES.labels(channel=delivery.channel.value, outcome="retry").inc()
        logger.warning("delivery %s failed (%s); attempt %s", delivery.id, error, attempts)
        # procrastinate schedules the job again (DeliveryRetry): same job, same lock, in order.
        raise TransientDeliveryError(error)

    async def _finish(
        self, delivery: Delivery, status: DeliveryStatus, *, error: str | None = None
    ) -> None:
        # The sealed token leaves with the mail: nothing usable stays behind.
        await Delivery.filter(id=delivery.id, status=DeliveryStatus.SENDING).update(
            status=status,
            sent_at=datetime.now(UTC) if status is DeliveryStatus.SENT else None,
            last_error=None if error is None else error[:500],
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
