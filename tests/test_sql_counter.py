"""The statement counter itself: it sees every statement, once, on SQLite and PostgreSQL."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from bff.identity.models import Member
from tests.factories import create_member, signed_in_member
from tests.sql_counter import count_statements, gql_with_statements

ME = "query { me { id email } }"


async def test_one_orm_query_counts_as_one_statement(app):
    """A plain SELECT through the ORM is one statement, and its SQL is recorded."""
    await create_member()

    with count_statements() as log:
        members = await Member.all()

    assert len(members) == 1
    assert log.count == 1
    assert "member" in log.statements[0]


async def test_inserts_updates_and_transactions_count_each_statement(app):
    """An insert, an update and a select inside a transaction are three statements."""

    with count_statements() as log:
        async with in_transaction():
            member = await create_member()
            await Member.filter(id=member.id).update(first_name="Olga")
            await Member.get(id=member.id)

    assert log.count == 3


async def test_nothing_is_counted_outside_the_block(app):
    """Statements before and after the block are not in its log."""
    await create_member()

    with count_statements() as log:
        pass
    await Member.all()

    assert log.count == 0


async def test_a_graphql_request_is_counted_through_the_real_app(client):
    """`me` with a fresh session is one statement: the session joined with its member."""
    _, token = await signed_in_member(email="count@example.com")

    body, log = await gql_with_statements(client, ME, token=token)

    assert body["data"]["me"]["email"] == "count@example.com"
    assert log.count == 1
