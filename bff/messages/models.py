"""In-app notifications, deliveries by mail and push, and push devices."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from bff.identity.models import Member, Session


class DeliveryChannel(StrEnum):
    EMAIL = "EMAIL"
    PUSH = "PUSH"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its time (next_attempt_at)
    CLAIMED = "CLAIMED"  # in a worker's batch; back to anyone once the lease has passed
    SENDING = "SENDING"  # handed to the mail or push service: never sent again
    SENT = "SENT"
    FAILED = "FAILED"  # refused for good, out of attempts, or interrupted while sending


class PushPlatform(StrEnum):
    ANDROID = "ANDROID"
    IOS = "IOS"
    WEB = "WEB"


class Notification(Model):
    """A notice in the bell of a member, one per outbox message at most."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
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
    next_attempt_at = fields.DatetimeField()
    lease_owner = fields.CharField(max_length=100, null=True)
    lease_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "delivery"
        unique_together = (("message_id", "channel", "address"),)
        indexes = (("status", "next_attempt_at"),)


class PushDevice(Model):
    """A device that receives push messages, registered by (and ending with) its session."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="push_devices", on_delete=fields.CASCADE
    )
    session: fields.ForeignKeyRelation[Session] = fields.ForeignKeyField(
        "bff.Session", related_name="push_devices", on_delete=fields.CASCADE
    )
    platform = fields.CharEnumField(PushPlatform)
    token = fields.CharField(max_length=512, unique=True)
    name = fields.CharField(max_length=100, null=True)
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()

    member_id: int
    session_id: int

    class Meta:
        table = "push_device"
