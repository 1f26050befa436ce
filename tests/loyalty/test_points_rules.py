"""The points rules (due, pending, available, expiring, owned) select the same lots whether the
ORM reads them as filters or the balance aggregate reads them as SQL, on every database."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bff.db.sql import Parameters, Where
from bff.loyalty import ledger
from bff.loyalty.cards import issue_card
from bff.loyalty.models import EntryKind, PointsEntry, PointsLot
from tests.factories import create_member

# Microseconds, so that a comparison that rounds or truncates times would show.
NOW = datetime(2026, 6, 15, 12, 30, 45, 123456, tzinfo=UTC)
WITHIN = timedelta(days=30)
# Around each boundary a rule has: now, now + 30 days, and a microsecond either side of both.
OFFSETS = [
    timedelta(days=-400),
    -timedelta(microseconds=1),
    timedelta(0),
    timedelta(microseconds=1),
    timedelta(days=10),
    WITHIN - timedelta(microseconds=1),
    WITHIN,
    WITHIN + timedelta(microseconds=1),
    timedelta(days=400),
]


async def lots_at_every_boundary(app_settings) -> tuple[int, int]:
    """A lot for each (available_at, expires_at, remaining) on a member and on an unlinked
    card's own; (member id, card id)."""
    member = await create_member()
    card = (await issue_card(settings=app_settings)).card
    owners = [(member.id, card.id, False), (None, card.id, False), (None, card.id, True)]
    grid = list(itertools.product(owners, OFFSETS, OFFSETS, [0, 7]))
    await PointsEntry.bulk_create(
        [
            PointsEntry(
                member_id=member_id,
                card_id=card_id,
                kind=EntryKind.EARN,
                amount=7,
                occurred_at=NOW,
                detached=detached,
            )
            for (member_id, card_id, detached), *_ in grid
        ]
    )
    entry_ids = await PointsEntry.all().order_by("id").values_list("id", flat=True)
    await PointsLot.bulk_create(
        [
            PointsLot(
                member_id=member_id,
                card_id=card_id,
                detached=detached,
                earn_entry_id=entry_id,
                amount=7,
                remaining=remaining,
                available_at=NOW + available,
                expires_at=NOW + expires,
            )
            for ((member_id, card_id, detached), available, expires, remaining), entry_id in zip(
                grid, entry_ids, strict=True
            )
        ]
    )
    return member.id, card.id


async def ids_by_sql(rule: Where) -> set[int]:
    client = PointsLot._meta.db
    parameters = Parameters(client)
    condition = rule.sql(PointsLot, parameters)
    rows = await client.execute_query_dict(
        f"SELECT id FROM points_lot WHERE {condition}",
        parameters.values,
    )
    return {row["id"] for row in rows}


async def ids_by_orm(rule: Where) -> set[int]:
    return set(await PointsLot.filter(rule.q()).values_list("id", flat=True))  # type: ignore[arg-type]


RULES = {
    "with points": lambda owner: ledger.with_points() & owner.rows(),
    "due": lambda owner: ledger.due(NOW) & owner.rows(),
    "pending": lambda owner: ledger.pending(NOW) & owner.rows(),
    "available": lambda owner: ledger.available(NOW) & owner.rows(),
    "expiring": lambda owner: ledger.expiring(NOW, within=WITHIN) & owner.rows(),
    "owned": lambda owner: owner.rows(),
}


@pytest.mark.parametrize("rule", RULES)
async def test_each_points_rule_selects_the_same_lots_as_sql_and_as_an_orm_filter(
    app, settings, rule
):
    """Lots on each side of every boundary, for a member and for a card's own points."""
    member_id, card_id = await lots_at_every_boundary(settings)

    found = {}
    for owner in (ledger.PointsOwner(member_id=member_id), ledger.PointsOwner(card_id=card_id)):
        condition = RULES[rule](owner)
        found[owner] = (await ids_by_sql(condition), await ids_by_orm(condition))

    every_lot = await PointsLot.all().count()
    for by_sql, by_orm in found.values():
        assert by_sql == by_orm
        assert 0 < len(by_sql) < every_lot


async def test_the_rules_split_a_lot_with_points_into_exactly_one_of_pending_available_or_due(
    app, settings
):
    """Every lot with points left is pending, available or due, never two of them (a lot's
    return window ends before its lifetime)."""
    member_id, _ = await lots_at_every_boundary(settings)
    owner = ledger.PointsOwner(member_id=member_id)
    lots = await PointsLot.filter(owner.rows().q(), ledger.with_points().q())
    sensible = {lot.id for lot in lots if lot.available_at < lot.expires_at}

    buckets = [
        await ids_by_sql(rule & owner.rows())
        for rule in (ledger.pending(NOW), ledger.available(NOW), ledger.due(NOW))
    ]

    assert all(sum(lot in bucket for bucket in buckets) == 1 for lot in sensible)


@pytest.mark.parametrize(
    ("column", "op", "value_of"),
    [
        ("member_id", "=", lambda _: None),
        ("id", "IN", frozenset),
        ("id", "IN", lambda ids: (lot_id for lot_id in ids)),
    ],
    ids=["equal to None", "in a set", "in a generator"],
)
async def test_a_where_term_either_reads_the_same_both_ways_or_is_refused(
    app, settings, column, op, value_of
):
    """A term the SQL and the ORM would read differently (`= NULL`, IN over a collection that
    is not a sequence) is refused where it is written, never run with two meanings."""
    await lots_at_every_boundary(settings)
    some_lots = await PointsLot.all().order_by("id").limit(2).values_list("id", flat=True)

    try:
        rule = Where.of(column, op, value_of(some_lots))
    except ValueError:
        return
    assert await ids_by_sql(rule) == await ids_by_orm(rule)


@pytest.mark.parametrize(("member_id", "card_id"), [(None, None), (1, 2)])
def test_points_belong_to_exactly_one_of_a_member_or_a_card(member_id, card_id):
    """An owner with neither, or with both, would read no rows or two owners' rows."""
    with pytest.raises(ValueError, match="exactly one"):
        ledger.PointsOwner(member_id=member_id, card_id=card_id)
