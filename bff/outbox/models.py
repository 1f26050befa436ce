"""The outbox, and what the worker makes of it: notifications and deliveries."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class OutboxMessage(Model):
    """A message some committed change caused, waiting for the relay (bff.messages.jobs).

    dispatched_at is set once the relay has turned it into a notification and deliveries (in
    one transaction, once: a conditional update)."""

    id = fields.BigIntField(primary_key=True)
    # None for a password reset: the worker looks the address up (see identity.email_flows).
    member_id = fields.BigIntField(null=True, db_index=True)
    kind = fields.CharField(max_length=40)
    params: dict[str, Any] = fields.JSONField(default=dict)
    # Once per key: the daily expiry scan sends one notice per member and expiry date.
    dedup_key = fields.CharField(max_length=200, null=True, unique=True)
    created_at = fields.DatetimeField()
    dispatched_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "outbox_message"


class DeliveryChannel(StrEnum):
    EMAIL = "EMAIL"
    PUSH = "PUSH"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its job (bff.messages.jobs), or for a retry
    SENDING = "SENDING"  # handed to the mail or push service: never sent again
    SENT = "SENT"
    FAILED = "FAILED"  # refused for good, out of attempts, or interrupted while sending


class Notification(Model):
    """A notice in the bell of a member, one per outbox message at most."""

    id = fields.BigIntField(primary_key=True)
    # The platform names no domain: the member's model is known here by its name only.
    member: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "bff.Member", related_name="notifications", on_delete=fields.CASCADE
    )
    message_id = fields.BigIntField(unique=True)
    kind = fields.CharField(max_length=40)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    created_at = fields.DatetimeField()
    read_at = fields.DatetimeField(null=True)

    member_id: int

    class Meta:
        table = "notification"
        indexes = (("member_id", "read_at"),)


class Delivery(Model):
    """One message on one channel to one address (a mailbox or a push device token)."""

    id = fields.BigIntField(primary_key=True)
    message_id = fields.BigIntField()
    member_id = fields.BigIntField(null=True)
    channel = fields.CharEnumField(DeliveryChannel)
    address = fields.CharField(max_length=512)
    kind = fields.CharField(max_length=40)
    language = fields.CharField(max_length=2)
    # What the text needs; a sealed token leaves with the mail (cleared once sent).
    params: dict[str, Any] = fields.JSONField(default=dict)
    status = fields.CharEnumField(DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    # The procrastinate job that sends it; None until the relay has deferred one.
    job_id = fields.BigIntField(null=True, db_index=True)
    last_error = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "delivery"
        unique_together = (("message_id", "channel", "address"),)
        indexes = (("status", "created_at"), ("member_id",))
