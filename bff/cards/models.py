"""Loyalty cards issued by the stores and linked by members."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from bff.identity.models import Member


class CardStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class Card(Model):
    id = fields.BigIntField(primary_key=True)
    number = fields.CharField(max_length=13, unique=True)
    # Keyed hash of the printed 6-digit verification code (see cards.codes).
    code_hash = fields.CharField(max_length=64)
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="cards", null=True, on_delete=fields.SET_NULL
    )
    label = fields.CharField(max_length=60, null=True)
    status = fields.CharEnumField(CardStatus, default=CardStatus.ACTIVE)
    linked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    issued_at = fields.DatetimeField(auto_now_add=True)

    member_id: int | None

    class Meta:
        table = "card"
