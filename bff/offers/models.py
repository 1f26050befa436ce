"""Offers (public, exclusive or targeted) and members' activations of them."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from bff.identity.models import Member


class OfferKind(StrEnum):
    """Who an offer is for; a targeted offer is PERSONAL even when it is also exclusive."""

    PUBLIC = "PUBLIC"
    EXCLUSIVE = "EXCLUSIVE"
    PERSONAL = "PERSONAL"


class Offer(Model):
    id = fields.BigIntField(primary_key=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField()
    discount_percent = fields.IntField(null=True)
    valid_from = fields.DatetimeField()
    valid_until = fields.DatetimeField()
    exclusive = fields.BooleanField(default=False)
    # A single-use offer applies at one till once per member; otherwise at every purchase.
    single_use = fields.BooleanField(default=True, db_default=True)
    # Set for an offer targeted at one member.
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="targeted_offers", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    # The lowest tier that may see it (a TierCode value; offers do not import loyalty's enum).
    minimum_tier = fields.CharField(max_length=8, null=True)

    member_id: int | None

    @property
    def kind(self) -> OfferKind:
        if self.member_id is not None:
            return OfferKind.PERSONAL
        return OfferKind.EXCLUSIVE if self.exclusive else OfferKind.PUBLIC

    class Meta:
        table = "offer"
        indexes = (("valid_until", "id"), ("member_id",))


class OfferActivation(Model):
    id = fields.BigIntField(primary_key=True)
    offer: fields.ForeignKeyRelation[Offer] = fields.ForeignKeyField(
        "bff.Offer", related_name="activations", on_delete=fields.CASCADE
    )
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="offer_activations", on_delete=fields.CASCADE
    )
    activated_at = fields.DatetimeField()
    # Set when an exclusive activation lapses because the member opted out.
    lapsed_at = fields.DatetimeField(null=True)
    # When a till last applied the offer for this member.
    used_at = fields.DatetimeField(null=True)

    offer_id: int
    member_id: int

    class Meta:
        table = "offer_activation"
        unique_together = (("offer", "member"),)
        indexes = (("member_id",),)
