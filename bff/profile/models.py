"""Notification preferences and the record of every marketing-consent change."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from bff.identity.models import Member


class Channel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    PUSH = "PUSH"


class Preferences(Model):
    member: fields.OneToOneRelation[Member] = fields.OneToOneField(
        "bff.Member", related_name="preferences", on_delete=fields.CASCADE, primary_key=True
    )
    notify_by_email = fields.BooleanField(default=True)
    notify_by_sms = fields.BooleanField(default=True)
    notify_by_push = fields.BooleanField(default=True)
    marketing_by_email = fields.BooleanField(default=False)
    marketing_by_sms = fields.BooleanField(default=False)
    marketing_by_push = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField()

    member_id: int

    class Meta:
        table = "preferences"


class ConsentEvent(Model):
    """One marketing switch turned on or off, with its time."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="consent_events", on_delete=fields.CASCADE
    )
    channel = fields.CharEnumField(Channel)
    granted = fields.BooleanField()
    occurred_at = fields.DatetimeField()

    member_id: int

    class Meta:
        table = "consent_event"
        indexes = (("member_id",),)
