"""Every statement of every client operation uses an index on PostgreSQL at a realistic scale.

The bench's seed (bench/seed.py: members with 1-9 cards and 20-180 purchases each, their ledger
entries and lots, sessions, offers, activations, and what members accumulate besides: stored tiers
and their changes, coupons, returns, messages, push devices, consents, tokens; then ANALYZE)
fills the database; each operation of clients/manifest.json then runs through the real app,
signed in as a seeded member, and each statement it sent is EXPLAINed with the parameters it was
sent with (sequential scans allowed, as in production); so are the store API's hot paths (a card
scanned, its benefits, a receipt with points, a coupon and an offer, a return). A sequential scan
of a table that grows with the members fails the test, and every such table must hold at least a
row per member, so a new one is judged as soon as it exists (bench/seed.py must fill it). An
operation added to the manifest is picked up here; its variables come from their names and types
(`variables_for`), and one this test cannot fill fails it with the variable's name.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    InlineFragmentNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    TypeNode,
    Undefined,
    VariableDefinitionNode,
    parse,
    type_from_ast,
)
from tortoise import Tortoise
from tortoise.models import Model

from bench.seed import PASSWORD, member_email, member_token, seed
from bff.graphql.persisted import REPOSITORY
from bff.graphql.schema import build_schema
from bff.identity.models import Member
from bff.ids import to_global_id
from tests.conftest import INTERNAL_API_KEY, make_settings
from tests.sql_counter import StatementLog, count_statements

pytestmark = pytest.mark.postgres_only

MEMBERS = 1000
OFFERS = 300
SIGNED_IN = 17  # the first of the seeded members (ids 1..MEMBERS) the operations sign in as
# Tables that do not grow with the members although they name one: the offer catalogue (a few
# targeted offers name their member; the catalogue grows with marketing's campaigns).
CATALOGUE = {"offer"}
SCHEMA = build_schema(make_settings("sqlite://:memory:"))._schema
# Schema type -> table, where a type is not named after its table.
TABLE_OF_TYPE = {"Transaction": "purchase"}


def member_tables() -> set[str]:
    """Tables whose rows grow with the members: the member table, every table naming a member
    without a foreign key (the outbox and deliveries keep a plain `member_id`), and every table
    with a foreign key to one of them (to the member, a card, a purchase...), found from the
    models."""
    models: list[type[Model]] = [
        model for app_models in Tortoise.apps.values() for model in app_models.values()
    ]
    growing = {Member._meta.db_table} | {
        model._meta.db_table for model in models if "member_id" in model._meta.fields_map
    }
    changed = True
    while changed:
        changed = False
        for model in models:
            table = model._meta.db_table
            if table in growing:
                continue
            targets = {
                model._meta.fields_map[name].related_model._meta.db_table  # type: ignore[attr-defined]
                for name in model._meta.fk_fields | model._meta.o2o_fields
            }
            if targets & growing:
                growing.add(table)
                changed = True
    return growing - CATALOGUE


async def filled(db: asyncpg.Connection, tables: set[str]) -> set[str]:
    """The tables holding at least a row per member. The planner reads an empty or nearly empty
    table sequentially whatever its indexes, so only these can be judged: a new table is judged
    once bench/seed.py fills it."""
    counts = {table: await db.fetchval(f'SELECT count(*) FROM "{table}"') for table in tables}
    return {table for table, count in counts.items() if count >= MEMBERS}


def named_type(node: TypeNode) -> str:
    while isinstance(node, NonNullTypeNode | ListTypeNode):
        node = node.type
    assert isinstance(node, NamedTypeNode)
    return node.name.value


def fragment_types(operation: OperationDefinitionNode) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, InlineFragmentNode) and node.type_condition is not None:
            found.append(node.type_condition.name.value)
        selection_set = getattr(node, "selection_set", None)
        for child in selection_set.selections if selection_set else ():
            walk(child)

    walk(operation)
    return found


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


async def sample_id(db: asyncpg.Connection, type_name: str, member_id: int) -> str | None:
    """A global id of a row of that type: the member's when the table names members and they
    have one, else any."""
    table = TABLE_OF_TYPE.get(type_name, snake_case(type_name))
    columns = {
        row["column_name"]
        for row in await db.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1", table
        )
    }
    if "id" not in columns:
        return None
    pk = None
    if "member_id" in columns:
        pk = await db.fetchval(f'SELECT min(id) FROM "{table}" WHERE member_id = $1', member_id)
    if pk is None:
        pk = await db.fetchval(f'SELECT min(id) FROM "{table}"')
    return to_global_id(type_name, pk) if pk is not None else None


async def generated(  # noqa: PLR0911
    db: asyncpg.Connection, graphql_type: GraphQLInputType, name: str, member_id: int
) -> Any:
    """A value of that input type: its required fields filled, an `xxxId` with the global id of
    one of the member's rows of type Xxx (so the mutation goes past its lookup), other scalars
    with a plain value (the operation may well answer with userErrors: the statements it sent
    are checked all the same)."""
    if isinstance(graphql_type, GraphQLNonNull):
        return await generated(db, graphql_type.of_type, name, member_id)
    if isinstance(graphql_type, GraphQLList):
        return [await generated(db, graphql_type.of_type, name, member_id)]
    if isinstance(graphql_type, GraphQLEnumType):
        return next(iter(graphql_type.values))
    if isinstance(graphql_type, GraphQLInputObjectType):
        return {
            field_name: await generated(db, field.type, field_name, member_id)
            for field_name, field in graphql_type.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    if graphql_type.name == "ID" and name.endswith("Id") and len(name) > 2:
        type_name = name.removesuffix("Id")[:1].upper() + name.removesuffix("Id")[1:]
        global_id = await sample_id(db, type_name, member_id)
        if global_id is not None:
            return global_id
    lowered = name.lower()
    if "email" in lowered:
        return member_email(member_id)
    if "password" in lowered:
        return PASSWORD
    return SCALARS.get(graphql_type.name, "1")


SCALARS = {"Int": 1, "Float": 1.0, "Boolean": False, "DateTime": "2026-01-01T00:00:00+00:00"}


async def value_for(
    db: asyncpg.Connection,
    operation: OperationDefinitionNode,
    variable: VariableDefinitionNode,
    member_id: int,
) -> Any:
    """A value for one variable, from its name and type; None for an optional one without a
    rule of its own."""
    name = variable.variable.name.value
    type_name = named_type(variable.type)
    if type_name == "ID":
        if name.endswith("Id"):
            candidates = [name.removesuffix("Id")[:1].upper() + name.removesuffix("Id")[1:]]
        else:
            candidates = fragment_types(operation)
        for candidate in candidates:
            global_id = await sample_id(db, candidate, member_id)
            if global_id is not None:
                return global_id
    if not isinstance(variable.type, NonNullTypeNode):
        return None
    graphql_type = type_from_ast(SCHEMA, variable.type)
    assert graphql_type is not None, f"${name}: no type {type_name} in the schema"
    return await generated(db, graphql_type, name, member_id)  # type: ignore[arg-type]


async def variable_sets(db: asyncpg.Connection, body: str, member_id: int) -> list[dict[str, Any]]:
    """The required variables alone, then with every optional one this test can fill."""
    operation = next(d for d in parse(body).definitions if isinstance(d, OperationDefinitionNode))
    required: dict[str, Any] = {}
    optional: dict[str, Any] = {}
    for variable in operation.variable_definitions or ():
        name = variable.variable.name.value
        value = await value_for(db, operation, variable, member_id)
        if isinstance(variable.type, NonNullTypeNode) and variable.default_value is None:
            required[name] = value
        elif value is not None:
            optional[name] = value
    return [required, {**required, **optional}] if optional else [required]


def end_cursors(data: Any) -> Iterator[str]:
    """Every `pageInfo.endCursor` of a response, to ask for the page after it."""
    if isinstance(data, dict):
        page_info = data.get("pageInfo")
        if isinstance(page_info, dict) and isinstance(page_info.get("endCursor"), str):
            yield page_info["endCursor"]
        for value in data.values():
            yield from end_cursors(value)
    elif isinstance(data, list):
        for value in data:
            yield from end_cursors(value)


def sequential_scans(plan: Any) -> Iterator[str]:
    if isinstance(plan, dict):
        if plan.get("Node Type") == "Seq Scan":
            yield plan["Relation Name"]
        for value in plan.values():
            yield from sequential_scans(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from sequential_scans(value)


async def explain(db: asyncpg.Connection, log: StatementLog) -> list[tuple[str, list[str]]]:
    """Each statement with the tables it reads by sequential scan."""
    plans = []
    for sql, parameters in zip(log.statements, log.parameters, strict=True):
        if not sql.lstrip().upper().startswith(("SELECT", "WITH", "INSERT", "UPDATE", "DELETE")):
            continue
        raw = await db.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *(parameters or ()))
        plans.append((sql, list(sequential_scans(json.loads(raw)))))
    return plans


SECRET = secrets.token_urlsafe(8)


@pytest.fixture
async def seeded(app, settings, database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """The test database filled by the bench's seed, and a connection to it."""
    del app  # migrated, and emptied again after the test
    dsn = database_url.replace("postgres://", "postgresql://", 1)
    await seed(dsn, members=MEMBERS, offers=OFFERS, secret=SECRET, settings=settings)
    db = await asyncpg.connect(dsn)
    try:
        yield db
    finally:
        await db.close()


def manifest_operations() -> list[tuple[str, str, str]]:
    """(name, type, document) of every query and mutation the clients ship (subscriptions run
    over websockets, not checked here)."""
    manifest = json.loads((REPOSITORY / "clients" / "manifest.json").read_text())
    return sorted(
        (operation["name"], operation["type"], operation["body"])
        for operation in manifest["operations"]
        if operation["type"] != "subscription"
    )


async def test_no_client_operation_reads_a_table_that_grows_with_members_sequentially(
    client, seeded: asyncpg.Connection
):
    """Each statement of each manifest operation (and of the page after each page it shows) and
    of the store API's writes is planned without a sequential scan of a table that grows with the
    members."""
    db = seeded
    tables = member_tables()
    growing = await filled(db, tables)
    assert growing == tables, f"bench/seed.py leaves {sorted(tables - growing)} nearly empty"
    problems: list[str] = []
    explained = 0

    async def check(name: str, log: StatementLog) -> None:
        nonlocal explained
        for sql, scans in await explain(db, log):
            explained += 1
            if bad := sorted(set(scans) & growing):
                problems.append(f"{name}: seq scan of {bad} in\n  {sql}")

    # Each operation as a member of its own: a logout, an opt-out or a closed account changes
    # nothing for the next one.
    for member_id, (name, kind, body) in enumerate(manifest_operations(), start=SIGNED_IN):
        headers = {
            "Authorization": f"Bearer {member_token(member_id, SECRET)}",
            "Origin": "http://web.example",
        }
        pending = await variable_sets(db, body, member_id)
        while pending:
            variables = pending.pop()
            with count_statements() as log:
                response = await client.post(
                    "/graphql", json={"query": body, "variables": variables}, headers=headers
                )
            answer = response.json()
            # Queries get real values and must succeed; mutations may refuse generated ones.
            assert kind != "query" or "errors" not in answer, (name, answer)
            if "after" in variable_names(body) and "after" not in variables:
                pending += [{**variables, "after": c} for c in end_cursors(answer["data"])]
            await check(f"{name} {variables}", log)
    # an active card (a client mutation above may have deactivated one)
    number = await db.fetchval(
        "SELECT min(number) FROM card WHERE member_id = $1 AND status = 'ACTIVE'", SIGNED_IN
    )
    # the member's coupon a till may take, and an offer they activated that is still valid
    coupon = await db.fetchval(
        "SELECT min(code) FROM coupon WHERE member_id = $1 AND status = 'ACTIVE'", SIGNED_IN
    )
    offer = await db.fetchval(
        """
        SELECT min(a.offer_id) FROM offer_activation a JOIN offer o ON o.id = a.offer_id
        WHERE a.member_id = $1 AND a.used_at IS NULL AND a.lapsed_at IS NULL
          AND o.valid_from <= now() AND o.valid_until > now() AND o.minimum_tier IS NULL
        """,
        SIGNED_IN,
    )
    assert coupon is not None, "the seed gave the member no active coupon"
    assert offer is not None, "the seed gave the member no activated offer"
    filled_in = {CARD: number, COUPON: coupon, OFFER: to_global_id("Offer", offer)}

    def fill(value: Any) -> Any:
        if isinstance(value, list):
            return [fill(item) for item in value]
        return filled_in.get(value, value)

    for method, path, sent, status in STORE_CALLS:
        with count_statements() as log:
            response = await client.request(
                method,
                f"/internal/v1/{path}".replace("{number}", number),
                json={key: fill(value) for key, value in sent.items()}
                if method == "POST"
                else None,
                headers={"X-Api-Key": INTERNAL_API_KEY},
            )
        assert response.status_code == status, response.text
        await check(f"{method} /internal/v1/{path}", log)

    assert explained >= len(manifest_operations()), "the operations issued no statements"
    assert problems == [], "\n".join(problems)


CARD = "<the signed-in member's card number>"
COUPON = "<one of the member's active coupons>"
OFFER = "<an offer the member activated>"
# The store systems' calls at the till and at the service desk: (method, path, body, status).
STORE_CALLS: list[tuple[str, str, dict[str, Any], int]] = [
    ("POST", "cards", {}, 201),
    ("GET", "cards/{number}", {}, 200),
    ("GET", "cards/{number}/benefits", {}, 200),
    (
        "POST",
        "purchases",
        {
            "receiptId": "explain-1",
            "cardNumber": CARD,
            "storeId": "store-1",
            "total": "1234.50",
            "pointsToRedeem": 10,
        },
        201,
    ),
    (
        "POST",
        "purchases",
        {
            "receiptId": "explain-2",
            "cardNumber": CARD,
            "storeId": "store-1",
            "total": "99.90",
            "couponCodes": [COUPON],
            "offerIds": [OFFER],
        },
        201,
    ),
    (
        "POST",
        "returns",
        {"returnId": "explain-r1", "receiptId": "explain-1", "amount": "100.00"},
        201,
    ),
]


def variable_names(body: str) -> set[str]:
    operation = next(d for d in parse(body).definitions if isinstance(d, OperationDefinitionNode))
    return {v.variable.name.value for v in operation.variable_definitions or ()}
