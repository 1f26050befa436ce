"""Loyalty: cards issued by the stores and linked by members, purchases, and the append-only
points ledger with its earning lots."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from bff.identity.models import Member


class CardStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class TierCode(StrEnum):
    """A tier, lowest first; the order of the members is the order of the tiers (bff.loyalty.tiers
    holds the rules)."""

    BLUE = "BLUE"
    SILVER = "SILVER"
    GOLD = "GOLD"

    @property
    def rank(self) -> int:
        """0 for the lowest tier; compare ranks, never codes."""
        return list(TierCode).index(self)

    def reaches(self, minimum: TierCode | None) -> bool:
        """Whether holding this tier satisfies a `minimum` tier (None: no minimum): the one rule
        behind offers' and rewards' minimum tiers."""
        return minimum is None or self.rank >= minimum.rank


class CardKind(StrEnum):
    PHYSICAL = "PHYSICAL"
    DIGITAL = "DIGITAL"


class DeactivationReason(StrEnum):
    LOST = "LOST"
    STOLEN = "STOLEN"
    OTHER = "OTHER"


class Card(Model):
    id = fields.BigIntField(primary_key=True)
    number = fields.CharField(max_length=13, unique=True)
    # Keyed hash of the printed 6-digit verification code (see loyalty.codes).
    code_hash = fields.CharField(max_length=64)
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="cards", null=True, on_delete=fields.SET_NULL
    )
    label = fields.CharField(max_length=60, null=True)
    status = fields.CharEnumField(CardStatus, default=CardStatus.ACTIVE)
    kind = fields.CharEnumField(CardKind, default=CardKind.PHYSICAL, db_default="PHYSICAL")
    # Why the member deactivated it, for the stores; cleared when it is activated again.
    deactivation_reason = fields.CharEnumField(DeactivationReason, null=True)
    linked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    issued_at = fields.DatetimeField(auto_now_add=True)

    member_id: int | None

    class Meta:
        table = "card"
        # A member's cards in the order every screen lists them.
        indexes = (("member_id", "linked_at", "id"),)


class EntryKind(StrEnum):
    EARN = "EARN"
    REDEEM = "REDEEM"
    EXPIRE = "EXPIRE"
    FORFEIT = "FORFEIT"
    ADJUST = "ADJUST"
    # Points given back when a coupon is cancelled before use.
    REFUND = "REFUND"
    RETURN = "RETURN"


class Purchase(Model):
    """A till receipt. `receipt_id` is the store's idempotency key."""

    id = fields.BigIntField(primary_key=True)
    receipt_id = fields.CharField(max_length=64, unique=True)
    # SHA-256 of the canonical request body: the same receipt with another body is a conflict.
    request_fingerprint = fields.CharField(max_length=64)
    card: fields.ForeignKeyRelation[Card] = fields.ForeignKeyField(
        "bff.Card", related_name="purchases", on_delete=fields.RESTRICT
    )
    # Owner of the purchase: the card's member when recorded, or the first member to link the card.
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="purchases", null=True, on_delete=fields.SET_NULL
    )
    store_id = fields.CharField(max_length=64)
    total = fields.DecimalField(max_digits=14, decimal_places=2)
    occurred_at = fields.DatetimeField()
    points_earned = fields.IntField(default=0)
    points_redeemed = fields.IntField(default=0)
    recorded_at = fields.DatetimeField()
    # A closed account's row: kept for accounting, never claimed by a later linker of the card.
    detached = fields.BooleanField(default=False, db_default=False)
    # Sums of the returns against this receipt (see PurchaseReturn); tier spend deducts the first.
    returned_total = fields.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal(0), db_default=Decimal(0)
    )
    points_returned = fields.IntField(default=0, db_default=0)
    # The offers the till applied, as answered: [{"id", "title", "discountPercent"}]; null: none.
    offers_applied: list[dict[str, Any]] | None = fields.JSONField(null=True)

    card_id: int
    member_id: int | None

    class Meta:
        table = "purchase"
        indexes = (("member_id", "occurred_at", "id"), ("card_id", "occurred_at", "id"))


class PurchaseReturn(Model):
    """Goods brought back against a receipt. `return_id` is the store's idempotency key.

    `points_returned` were taken back from the owner's lots; `points_shortfall` is what the
    return should also have taken but the owner had already spent (never clawed below zero)."""

    id = fields.BigIntField(primary_key=True)
    return_id = fields.CharField(max_length=64, unique=True)
    # SHA-256 of the canonical request body: the same return id with another body is a conflict.
    request_fingerprint = fields.CharField(max_length=64)
    purchase: fields.ForeignKeyRelation[Purchase] = fields.ForeignKeyField(
        "bff.Purchase", related_name="returns", on_delete=fields.RESTRICT
    )
    amount = fields.DecimalField(max_digits=14, decimal_places=2)
    occurred_at = fields.DatetimeField()
    points_returned = fields.IntField()
    points_shortfall = fields.IntField()
    recorded_at = fields.DatetimeField()

    purchase_id: int

    class Meta:
        table = "purchase_return"
        indexes = (("purchase_id", "id"),)


class PointsEntry(Model):
    """One signed change of a points balance. Never updated but for claiming an owner."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="points_entries", null=True, on_delete=fields.SET_NULL
    )
    card: fields.ForeignKeyNullableRelation[Card] = fields.ForeignKeyField(
        "bff.Card", related_name="points_entries", null=True, on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(EntryKind)
    amount = fields.IntField()
    # EARN: the multiplier of the tier held when the purchase occurred (SPEC.md "Tiers").
    multiplier = fields.DecimalField(max_digits=5, decimal_places=2, null=True)
    occurred_at = fields.DatetimeField()
    purchase: fields.ForeignKeyNullableRelation[Purchase] = fields.ForeignKeyField(
        "bff.Purchase", related_name="points_entries", null=True, on_delete=fields.RESTRICT
    )
    # A closed account's row: kept for accounting, never claimed by a later linker of the card.
    detached = fields.BooleanField(default=False, db_default=False)
    # The reward a REDEEM entry bought (or a REFUND entry gave back).
    reward: fields.ForeignKeyNullableRelation[Reward] = fields.ForeignKeyField(
        "bff.Reward", related_name="points_entries", null=True, on_delete=fields.RESTRICT
    )

    member_id: int | None
    card_id: int | None
    purchase_id: int | None
    reward_id: int | None

    class Meta:
        table = "points_entry"
        indexes = (("member_id", "occurred_at", "id"), ("card_id", "member_id"), ("purchase_id",))


class PointsLot(Model):
    """Points earned together: pending until `available_at`, gone at `expires_at`."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="points_lots", null=True, on_delete=fields.SET_NULL
    )
    card: fields.ForeignKeyRelation[Card] = fields.ForeignKeyField(
        "bff.Card", related_name="points_lots", on_delete=fields.RESTRICT
    )
    earn_entry: fields.OneToOneRelation[PointsEntry] = fields.OneToOneField(
        "bff.PointsEntry", related_name="lot", on_delete=fields.RESTRICT
    )
    amount = fields.IntField()
    remaining = fields.IntField()
    available_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    # A closed account's row: kept for accounting, never claimed by a later linker of the card.
    detached = fields.BooleanField(default=False, db_default=False)

    member_id: int | None
    card_id: int
    earn_entry_id: int

    class Meta:
        table = "points_lot"
        indexes = (("member_id", "expires_at"), ("card_id", "member_id"))


class MemberTier(Model):
    """The tier a member was last evaluated at (reads evaluate again, see bff.loyalty.tiers)."""

    member: fields.OneToOneRelation[Member] = fields.OneToOneField(
        "bff.Member", related_name="tier", on_delete=fields.CASCADE, primary_key=True
    )
    tier = fields.CharEnumField(TierCode)
    since = fields.DatetimeField()
    # The first day of the calendar month of the evaluation: the tier may drop only when it moves.
    evaluated_month = fields.DatetimeField()
    # Spend counts from here (opting out and rejoining start again at the lowest tier).
    counted_from = fields.DatetimeField(null=True)

    member_id: int

    class Meta:
        table = "member_tier"


class TierChange(Model):
    """One change of a member's tier, for the history and the data export."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="tier_changes", on_delete=fields.CASCADE
    )
    from_tier = fields.CharEnumField(TierCode, null=True)
    to_tier = fields.CharEnumField(TierCode)
    changed_at = fields.DatetimeField()
    window_spend = fields.DecimalField(max_digits=14, decimal_places=2)

    member_id: int

    class Meta:
        table = "tier_change"
        indexes = (("member_id", "changed_at"),)


class PointsDraw(Model):
    """What one REDEEM entry took from one lot: cancelling a coupon puts it back."""

    id = fields.BigIntField(primary_key=True)
    entry: fields.ForeignKeyRelation[PointsEntry] = fields.ForeignKeyField(
        "bff.PointsEntry", related_name="draws", on_delete=fields.RESTRICT
    )
    lot: fields.ForeignKeyRelation[PointsLot] = fields.ForeignKeyField(
        "bff.PointsLot", related_name="draws", on_delete=fields.RESTRICT
    )
    points = fields.IntField()

    entry_id: int
    lot_id: int

    class Meta:
        table = "points_draw"
        indexes = (("entry_id", "id"),)


class Reward(Model):
    """Something members buy with points, published by the store systems."""

    id = fields.BigIntField(primary_key=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField()
    cost = fields.IntField()
    # Items left; None when unlimited.
    stock = fields.IntField(null=True)
    valid_until = fields.DatetimeField(null=True)
    minimum_tier = fields.CharEnumField(TierCode, null=True)
    coupon_valid_days = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "reward"
        indexes = (("cost", "id"),)


class CouponStatus(StrEnum):
    """As stored; an ACTIVE coupon past its validity reads as EXPIRED (see loyalty.rewards)."""

    ACTIVE = "ACTIVE"
    USED = "USED"
    CANCELLED = "CANCELLED"


class Coupon(Model):
    """A reward bought with points: shown at the till by its code, used at most once."""

    id = fields.BigIntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "bff.Member", related_name="coupons", on_delete=fields.RESTRICT
    )
    reward: fields.ForeignKeyRelation[Reward] = fields.ForeignKeyField(
        "bff.Reward", related_name="coupons", on_delete=fields.RESTRICT
    )
    # The member's key for this purchase attempt: a retry returns this coupon.
    idempotency_key = fields.CharField(max_length=100)
    redeem_entry: fields.OneToOneRelation[PointsEntry] = fields.OneToOneField(
        "bff.PointsEntry", related_name="coupon", on_delete=fields.RESTRICT
    )
    points_spent = fields.IntField()
    status = fields.CharEnumField(CouponStatus, default=CouponStatus.ACTIVE)
    issued_at = fields.DatetimeField()
    valid_until = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    # The receipt that used it: a replay of that receipt answers with this coupon again.
    used_purchase: fields.ForeignKeyNullableRelation[Purchase] = fields.ForeignKeyField(
        "bff.Purchase", related_name="coupons_used", null=True, on_delete=fields.RESTRICT
    )
    cancelled_at = fields.DatetimeField(null=True)

    member_id: int
    reward_id: int
    redeem_entry_id: int
    used_purchase_id: int | None

    class Meta:
        table = "coupon"
        unique_together = (("member", "idempotency_key"),)
        indexes = (("member_id", "issued_at", "id"), ("used_purchase_id",))
