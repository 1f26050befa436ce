"""Push devices."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from bff.identity.models import Member, Session


class PushPlatform(StrEnum):
    ANDROID = "ANDROID"
    IOS = "IOS"
    WEB = "WEB"


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
        indexes = (("member_id",), ("session_id",))
