"""Keyset paging's one rule (`past`) gives the same pages read as an ORM filter (`keyset_page`,
offers and the points history) and as hand-written SQL (`first_rows_per_group`, purchases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bff.db.paging import keyset_page
from bff.db.windowed import first_rows_per_group
from bff.loyalty.cards import issue_card
from bff.loyalty.models import Purchase
from tests.factories import create_member, create_purchase

NOW = datetime(2026, 6, 15, 12, 30, 45, 123456, tzinfo=UTC)
# Several purchases share each time, so the id decides between them.
TIMES = [NOW - timedelta(hours=hours) for hours in (0, 0, 0, 1, 2, 2, 5, 5, 5, 5)]


@pytest.mark.parametrize("descending", [True, False])
async def test_every_page_after_every_row_is_the_same_through_the_orm_and_the_sql(
    app, settings, descending
):
    """After each row's position, both readings list the same rows in the same order, ties on
    the time broken by id, in either direction."""
    member = await create_member()
    card = (await issue_card(settings=settings)).card
    for index, at in enumerate(TIMES):
        await create_purchase(
            member=member, card=card, receipt_id=f"R{index}", total=Decimal(10), points=1, at=at
        )
    rows = await Purchase.filter(member_id=member.id)

    pages = []
    for row in rows:
        cursor = (row.occurred_at.isoformat(), row.id)
        by_orm = await keyset_page(
            Purchase.filter(member_id=member.id),
            field="occurred_at",
            after=cursor,
            first=len(rows),
            descending=descending,
        )
        by_sql = await first_rows_per_group(
            Purchase,
            group_by="member_id",
            groups=[member.id],
            equal={},
            order_by=[("occurred_at", descending), ("id", descending)],
            after=(row.occurred_at, row.id),
            per_group=len(rows) + 1,
        )
        pages.append(([p.id for p in by_orm], [p.id for p in by_sql[member.id]]))

    assert all(orm == sql for orm, sql in pages)
    assert sorted(len(orm) for orm, _ in pages) == list(range(len(rows)))
