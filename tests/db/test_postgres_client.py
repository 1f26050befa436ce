"""On PostgreSQL each statement is one round trip: pooled connections go back to the pool
without asyncpg's reset query (bff/db/postgres.py)."""

from __future__ import annotations

import pytest

from tests.sql_counter import count_round_trips
from tests.test_client_operations import create_offers, member_with, statements_of

pytestmark = pytest.mark.postgres_only


async def test_the_web_dashboard_takes_one_round_trip_per_statement(client):
    """Seven statements, seven round trips: no reset query after each."""
    await create_offers(12)
    member = await member_with(cards=3, purchases=30)
    await statements_of(
        client, "web/operations/dashboard.graphql", member
    )  # session's last-seen touched

    with count_round_trips() as round_trips:
        statements = await statements_of(client, "web/operations/dashboard.graphql", member)

    assert statements > 0
    assert len(round_trips) == statements, round_trips
