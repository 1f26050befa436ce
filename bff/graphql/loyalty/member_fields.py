"""The loyalty fields of `Member`: cards, points, history, transactions and offers."""

from __future__ import annotations

import strawberry

from bff.graphql.context import Info
from bff.graphql.loyalty.loaders import (
    CardsByMemberIdLoader,
    PointsBalanceByMemberIdLoader,
    PointsEntriesPageByKeyLoader,
    PointsEntriesPageKey,
)
from bff.graphql.loyalty.types import (
    Card,
    PointsBalance,
    PointsEntry,
    Transaction,
    own_card_pk,
    transactions_connection,
)
from bff.graphql.offers.types import Offer, offers_connection
from bff.graphql.permissions import IsMember
from bff.graphql.relay import (
    Connection,
    build_connection,
    encode_cursor,
    make_page,
)
from bff.offers.services import Viewer


@strawberry.type
class MemberLoyaltyFields:
    pk: strawberry.Private[int]

    @strawberry.field
    async def cards(self, info: Info) -> list[Card]:
        cards = await info.context.loader(CardsByMemberIdLoader).load(self.pk)
        return [Card.from_model(card) for card in cards]

    @strawberry.field
    async def points(self, info: Info) -> PointsBalance:
        balance = await info.context.loader(PointsBalanceByMemberIdLoader).load(self.pk)
        return PointsBalance.from_balance(balance)

    @strawberry.field
    async def points_history(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[PointsEntry]:
        page = make_page(first, after, max_page_size=info.context.settings.max_page_size)
        key = PointsEntriesPageKey(member_id=self.pk, first=page.first, after=page.after)
        rows = await info.context.loader(PointsEntriesPageByKeyLoader).load(key)
        return build_connection(
            [PointsEntry.from_model(row) for row in rows],
            [encode_cursor(row.occurred_at, row.id) for row in rows],
            page=page,
        )

    @strawberry.field(
        description=(
            "Purchases on this member's cards, newest first. A cardId that is not one of the "
            "member's linked cards is a NOT_FOUND error."
        )
    )
    async def transactions(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        card_id: strawberry.ID | None = None,
    ) -> Connection[Transaction]:
        card_pk = None
        if card_id is not None:
            card_pk = await own_card_pk(info, card_id, member_id=self.pk)
        return await transactions_connection(
            info, member_id=self.pk, card_id=card_pk, first=first, after=after
        )

    @strawberry.field(
        description=(
            "Offers this member can see: public, exclusive (ENROLLED only) and targeted to them."
        ),
        permission_classes=[IsMember],
    )
    async def offers(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Offer]:
        viewer = Viewer.of(info.context.signed_in_member)
        return await offers_connection(
            info, viewer=viewer, public_only=False, first=first, after=after
        )
