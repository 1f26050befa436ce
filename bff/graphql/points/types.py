"""GraphQL types of the ledger: balance, entries and transactions (purchases)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from bff.graphql.context import Info
from bff.graphql.node import register_node
from bff.graphql.relay import Node, to_global_id
from bff.points import ledger, models

if TYPE_CHECKING:
    from bff.graphql.cards.types import Card


@strawberry.enum
class PointsEntryKind(Enum):
    EARN = "EARN"
    REDEEM = "REDEEM"
    EXPIRE = "EXPIRE"
    FORFEIT = "FORFEIT"
    ADJUST = "ADJUST"


@strawberry.type
class PointsBalance:
    available: int = strawberry.field(description="Points that can be redeemed now.")
    pending: int = strawberry.field(
        description="Points earned on purchases still inside the return window."
    )
    expiring_soon: int = strawberry.field(
        description="Available points that expire within the next 30 days."
    )
    next_expiry_at: datetime | None = strawberry.field(
        description="When the next available points expire; null when none are available."
    )
    lifetime_earned: int
    spent: int
    expired: int

    @classmethod
    def from_balance(cls, balance: ledger.Balance) -> Self:
        return cls(
            available=balance.available,
            pending=balance.pending,
            expiring_soon=balance.expiring_soon,
            next_expiry_at=balance.next_expiry_at,
            lifetime_earned=balance.lifetime_earned,
            spent=balance.spent,
            expired=balance.expired,
        )


@strawberry.type
class Transaction(Node):
    pk: strawberry.Private[int]
    member_id: strawberry.Private[int | None]
    card_pk: strawberry.Private[int]
    id: strawberry.ID
    receipt_id: str
    occurred_at: datetime
    store_id: str
    total: Decimal
    points_earned: int
    points_redeemed: int

    @classmethod
    def from_model(cls, purchase: models.Purchase) -> Self:
        return cls(
            pk=purchase.id,
            member_id=purchase.member_id,
            card_pk=purchase.card_id,
            id=to_global_id("Transaction", purchase.id),
            receipt_id=purchase.receipt_id,
            occurred_at=purchase.occurred_at,
            store_id=purchase.store_id,
            total=purchase.total,
            points_earned=purchase.points_earned,
            points_redeemed=purchase.points_redeemed,
        )

    @strawberry.field
    async def card(
        self, info: Info
    ) -> Annotated[Card, strawberry.lazy("bff.graphql.cards.types")] | None:
        """The card, while it is linked to the purchase's owner (null once unlinked)."""
        from bff.graphql.cards.types import Card  # noqa: PLC0415 (types refer to each other)

        card = await info.context.loaders.card_by_id.load(self.card_pk)
        if card is None or card.member_id is None or card.member_id != self.member_id:
            return None
        return Card.from_model(card)


@strawberry.type
class PointsEntry(Node):
    pk: strawberry.Private[int]
    member_id: strawberry.Private[int | None]
    purchase_id: strawberry.Private[int | None]
    id: strawberry.ID
    kind: PointsEntryKind
    amount: int = strawberry.field(
        description="Signed: positive for EARN, negative for REDEEM, EXPIRE and FORFEIT."
    )
    occurred_at: datetime

    @classmethod
    def from_model(cls, entry: models.PointsEntry) -> Self:
        return cls(
            pk=entry.id,
            member_id=entry.member_id,
            purchase_id=entry.purchase_id,
            id=to_global_id("PointsEntry", entry.id),
            kind=PointsEntryKind(entry.kind.value),
            amount=entry.amount,
            occurred_at=entry.occurred_at,
        )

    @strawberry.field
    async def transaction(self, info: Info) -> Transaction | None:
        if self.purchase_id is None:
            return None
        purchase = await info.context.loaders.purchase_by_id.load(self.purchase_id)
        if purchase is None or purchase.member_id != self.member_id:
            return None
        return Transaction.from_model(purchase)


async def resolve_transaction_node(info: Info, pk: int) -> Transaction | None:
    member = await info.context.member()
    purchase = await info.context.loaders.purchase_by_id.load(pk)
    if member is None or purchase is None or purchase.member_id != member.id:
        return None
    return Transaction.from_model(purchase)


async def resolve_points_entry_node(info: Info, pk: int) -> PointsEntry | None:
    member = await info.context.member()
    if member is None:
        return None
    entry = await info.context.loaders.points_entry_by_id.load(pk)
    if entry is None or entry.member_id != member.id:
        return None
    return PointsEntry.from_model(entry)


register_node("Transaction", resolve_transaction_node)
register_node("PointsEntry", resolve_points_entry_node)
