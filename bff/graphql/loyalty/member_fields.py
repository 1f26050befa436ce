"""Resolvers of `Member`'s loyalty fields: cards, points, the points history and purchases.

`Member` (graphql/identity/types.py) declares the fields and points them here.
"""

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
    purchases_connection,
)
from bff.graphql.relay import Connection, HasPk, build_connection, make_page


async def cards(root: HasPk, info: Info) -> list[Card]:
    rows = await info.context.loader(CardsByMemberIdLoader).load(root.pk)
    return [Card.from_model(row) for row in rows]


async def points(root: HasPk, info: Info) -> PointsBalance:
    balance = await info.context.loader(PointsBalanceByMemberIdLoader).load(root.pk)
    return PointsBalance.from_balance(balance)


async def points_history(
    root: HasPk, info: Info, first: int | None = 20, after: str | None = None
) -> Connection[PointsEntry]:
    page = make_page(first, after, max_page_size=info.context.settings.max_page_size)
    key = PointsEntriesPageKey(member_id=root.pk, first=page.first, after=page.after)
    rows = await info.context.loader(PointsEntriesPageByKeyLoader).load(key)
    return build_connection(
        [PointsEntry.from_model(row) for row in rows],
        [(row.occurred_at, row.id) for row in rows],
        page=page,
    )


async def purchases(
    root: HasPk,
    info: Info,
    first: int | None = 20,
    after: str | None = None,
    card_id: strawberry.ID | None = None,
) -> Connection[Transaction]:
    card_pk = None if card_id is None else await own_card_pk(info, card_id, member_id=root.pk)
    return await purchases_connection(
        info, member_id=root.pk, card_id=card_pk, first=first, after=after
    )
