"""GraphQL types of loyalty: cards, the points balance and entries, and purchases (the
schema calls them `Transaction`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Self, cast

import strawberry

from bff.errors import DomainError, ErrorCode
from bff.graphql.context import Info
from bff.graphql.errors import UserError
from bff.graphql.loyalty.loaders import (
    CardByIdLoader,
    PointsEntryByIdLoader,
    PurchaseByIdLoader,
    PurchasesPageByKeyLoader,
    PurchasesPageKey,
)
from bff.graphql.node import register_node
from bff.graphql.relay import Connection, Node, build_connection, make_page, node_id, selects
from bff.ids import from_global_id
from bff.loyalty import ledger, models
from bff.loyalty.tiers import TierCode as DomainTierCode


@strawberry.enum
class PointsEntryKind(Enum):
    EARN = "EARN"
    REDEEM = "REDEEM"
    EXPIRE = "EXPIRE"
    FORFEIT = "FORFEIT"
    ADJUST = "ADJUST"
    REFUND = strawberry.enum_value(
        "REFUND", description="Points given back when a coupon is cancelled before use."
    )
    RETURN = strawberry.enum_value(
        "RETURN", description="Points taken back when a purchase is (partly) returned."
    )


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
    """A purchase: `Transaction` is the schema's (the contract's) name for it, while in code a
    transaction is a database transaction."""

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
    returned_total: Decimal = strawberry.field(
        description="Sum of the returns recorded against this receipt."
    )
    points_returned: int = strawberry.field(description="Points taken back by those returns.")
    # The card row, when the connection that made it read the page's cards already.
    known_card: strawberry.Private[models.Card | None] = None
    card_known: strawberry.Private[bool] = False

    @classmethod
    def from_model(cls, purchase: models.Purchase, *, card: models.Card | None = None) -> Self:
        """`card`: the purchase's card row, read with it (None: `card` loads it when asked)."""
        return cls(
            pk=purchase.id,
            member_id=purchase.member_id,
            card_pk=purchase.card_id,
            id=node_id("Transaction", purchase.id),
            receipt_id=purchase.receipt_id,
            occurred_at=purchase.occurred_at,
            store_id=purchase.store_id,
            total=purchase.total,
            points_earned=purchase.points_earned,
            points_redeemed=purchase.points_redeemed,
            returned_total=purchase.returned_total,
            points_returned=purchase.points_returned,
            known_card=card,
            card_known=card is not None,
        )

    @strawberry.field
    def card(self, info: Info) -> Card | None:
        """The card, while it is linked to the purchase's owner (null once unlinked)."""
        # Synchronous when the connection read the page's cards (no task, no loader round);
        # otherwise an awaitable, which graphql-core awaits like an async resolver's.
        if self.card_known:
            return self._shown(self.known_card)
        return cast("Card | None", self._load_card(info))

    async def _load_card(self, info: Info) -> Card | None:
        return self._shown(await info.context.loader(CardByIdLoader).load(self.card_pk))

    def _shown(self, card: models.Card | None) -> Card | None:
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
            id=node_id("PointsEntry", entry.id),
            kind=PointsEntryKind(entry.kind.value),
            amount=entry.amount,
            occurred_at=entry.occurred_at,
        )

    @strawberry.field
    async def transaction(self, info: Info) -> Transaction | None:
        if self.purchase_id is None:
            return None
        purchase = await info.context.loader(PurchaseByIdLoader).load(self.purchase_id)
        if purchase is None or purchase.member_id != self.member_id:
            return None
        return Transaction.from_model(purchase)


async def purchase_node(info: Info, pk: int) -> Transaction | None:
    member = await info.context.member()
    purchase = await info.context.loader(PurchaseByIdLoader).load(pk)
    if member is None or purchase is None or purchase.member_id != member.id:
        return None
    return Transaction.from_model(purchase)


async def points_entry_node(info: Info, pk: int) -> PointsEntry | None:
    member = await info.context.member()
    if member is None:
        return None
    entry = await info.context.loader(PointsEntryByIdLoader).load(pk)
    if entry is None or entry.member_id != member.id:
        return None
    return PointsEntry.from_model(entry)


register_node("Transaction", purchase_node)
register_node("PointsEntry", points_entry_node)


TierCode = strawberry.enum(
    DomainTierCode, name="TierCode", description="A tier of the program, lowest first."
)


@strawberry.enum
class CardStatus(Enum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


@strawberry.enum
class CardKind(Enum):
    PHYSICAL = "PHYSICAL"
    DIGITAL = strawberry.enum_value(
        "DIGITAL", description="Issued in the app by requestDigitalCard; no plastic."
    )


@strawberry.enum(description="Why a member deactivated a card; the stores see it.")
class CardDeactivationReason(Enum):
    LOST = "LOST"
    STOLEN = "STOLEN"
    OTHER = "OTHER"


@strawberry.type
class Card(Node):
    pk: strawberry.Private[int]
    member_id: strawberry.Private[int]
    id: strawberry.ID
    number: str = strawberry.field(
        description=(
            "13 digits; the last is a GS1 mod-10 check digit (as in the card's EAN-13 barcode)."
        )
    )
    label: str | None
    status: CardStatus
    linked_at: datetime
    last_used_at: datetime | None
    kind: CardKind
    deactivation_reason: CardDeactivationReason | None = strawberry.field(
        default=None,
        description="Why the member deactivated it (lost, stolen, other); null when active.",
    )

    @classmethod
    def from_model(cls, card: models.Card) -> Self:
        """Only linked cards are shown, to their member."""
        return cls(
            pk=card.id,
            member_id=card.member_id or 0,
            id=node_id("Card", card.id),
            number=card.number,
            label=card.label,
            status=CardStatus(card.status.value),
            linked_at=card.linked_at or card.issued_at,
            last_used_at=card.last_used_at,
            kind=CardKind(card.kind.value),
            deactivation_reason=(
                CardDeactivationReason(card.deactivation_reason.value)
                if card.deactivation_reason
                else None
            ),
        )

    @strawberry.field(description="What a till scans: the card's EAN-13 digits.")
    def barcode(self) -> str:
        return self.number

    @strawberry.field(description="Purchases on this card owned by its member, newest first.")
    async def transactions(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Transaction]:
        return await purchases_connection(
            info, member_id=self.member_id, card_id=self.pk, first=first, after=after
        )


async def purchases_connection(
    info: Info, *, member_id: int, card_id: int | None, first: int | None, after: str | None
) -> Connection[Transaction]:
    """A page of the member's purchases (on one card, or all of them), newest first."""
    page = make_page(first, after, max_page_size=info.context.settings.max_page_size)
    key = PurchasesPageKey(member_id=member_id, card_id=card_id, first=page.first, after=page.after)
    rows = await info.context.loader(PurchasesPageByKeyLoader).load(key)
    cards: list[models.Card | None] = [None] * len(rows)
    if rows and selects(info, "edges", "node", "card"):
        # The page's cards in one load (the statement the nodes' loads would batch into).
        shown = rows[: page.first]
        cards[: len(shown)] = await info.context.loader(CardByIdLoader).load_many(
            [row.card_id for row in shown]
        )
    return build_connection(
        [Transaction.from_model(row, card=card) for row, card in zip(rows, cards, strict=True)],
        [(row.occurred_at, row.id) for row in rows],
        page=page,
    )


async def own_card_pk(info: Info, card_id: str, *, member_id: int) -> int:
    """The key of one of the member's linked cards; NOT_FOUND for any other id (malformed,
    another type, unknown, someone else's, unlinked), all alike, so ids disclose nothing."""
    decoded = from_global_id(card_id)
    if decoded is not None and decoded[0] == "Card":
        card = await info.context.loader(CardByIdLoader).load(decoded[1])
        if card is not None and card.member_id == member_id:
            return decoded[1]
    raise DomainError(ErrorCode.NOT_FOUND, "You have no card with this id.", field="cardId")


@strawberry.type
class CardPayload:
    card: Card | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def card_node(info: Info, pk: int) -> Card | None:
    member = await info.context.member()
    card = await info.context.loader(CardByIdLoader).load(pk)
    if member is None or card is None or card.member_id != member.id:
        return None
    return Card.from_model(card)


register_node("Card", card_node)
