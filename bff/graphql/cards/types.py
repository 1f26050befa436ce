"""GraphQL types of cards."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Self

import strawberry

from bff.cards import models
from bff.errors import DomainError
from bff.graphql.context import Info
from bff.graphql.errors import UserError
from bff.graphql.node import register_node
from bff.graphql.points.loaders import TransactionsPageKey
from bff.graphql.points.types import Transaction
from bff.graphql.relay import (
    Connection,
    Node,
    build_connection,
    encode_cursor,
    from_global_id,
    make_page,
    to_global_id,
)


@strawberry.enum
class CardStatus(Enum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


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

    @classmethod
    def from_model(cls, card: models.Card) -> Self:
        """Only linked cards are shown, to their member."""
        return cls(
            pk=card.id,
            member_id=card.member_id or 0,
            id=to_global_id("Card", card.id),
            number=card.number,
            label=card.label,
            status=CardStatus(card.status.value),
            linked_at=card.linked_at or card.issued_at,
            last_used_at=card.last_used_at,
        )

    @strawberry.field(description="Purchases on this card owned by its member, newest first.")
    async def transactions(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Transaction]:
        return await transactions_connection(
            info, member_id=self.member_id, card_id=self.pk, first=first, after=after
        )


async def transactions_connection(
    info: Info, *, member_id: int, card_id: int | None, first: int | None, after: str | None
) -> Connection[Transaction]:
    page = make_page(first, after, max_page_size=info.context.settings.max_page_size)
    key = TransactionsPageKey(
        member_id=member_id, card_id=card_id, first=page.first, after=page.after
    )
    rows = await info.context.loaders.transactions_page.load(key)
    return build_connection(
        [Transaction.from_model(row) for row in rows],
        [encode_cursor(row.occurred_at, row.id) for row in rows],
        page=page,
    )


async def own_card_pk(info: Info, card_id: str, *, member_id: int) -> int:
    """The key of one of the member's linked cards; NOT_FOUND for any other id (malformed,
    another type, unknown, someone else's, unlinked), all alike, so ids disclose nothing."""
    decoded = from_global_id(card_id)
    if decoded is not None and decoded[0] == "Card":
        card = await info.context.loaders.card_by_id.load(decoded[1])
        if card is not None and card.member_id == member_id:
            return decoded[1]
    raise DomainError("NOT_FOUND", "You have no card with this id.", field="cardId")


@strawberry.type
class CardPayload:
    card: Card | None
    user_errors: list[UserError]


async def resolve_card_node(info: Info, pk: int) -> Card | None:
    member = await info.context.member()
    card = await info.context.loaders.card_by_id.load(pk)
    if member is None or card is None or card.member_id != member.id:
        return None
    return Card.from_model(card)


register_node("Card", resolve_card_node)
