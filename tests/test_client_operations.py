"""The operations the web and mobile clients ship (clients/**/*.graphql): valid against the schema,
and each screen in a number of SQL statements that does not grow with the member's data."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse, validate
from graphql import build_schema as parse_sdl

from bff import events
from bff.graphql.persisted import client_operation, client_operation_files
from bff.graphql.schema import build_schema
from bff.identity.models import Member
from bff.ids import to_global_id
from bff.loyalty.models import Card, CardStatus, EntryKind, PointsEntry, PointsLot, Purchase
from bff.loyalty.numbers import check_digit
from bff.loyalty.tiers import reevaluate
from bff.offers.models import Offer, OfferActivation
from bff.profile.models import Preferences
from bff.settings import Settings
from tests.factories import signed_in_member
from tests.sql_counter import gql_with_statements

REPOSITORY = Path(__file__).resolve().parent.parent
CLIENTS = REPOSITORY / "clients"
# The client contract (the product's shared folder beside this checkout, as `make contract`).
CONTRACT = Path(os.environ.get("SHARED", REPOSITORY.parent / "shared")) / "contract.graphql"
QUERIES = {
    path.relative_to(CLIENTS).as_posix(): path.read_text()
    for path in client_operation_files(CLIENTS)
    if client_operation(path)["type"] == "query"
}
DASHBOARD_STATEMENT_LIMIT = 8


@pytest.mark.parametrize("path", client_operation_files(CLIENTS), ids=lambda p: p.name)
def test_every_client_operation_is_valid_against_the_schema(path, settings):
    """A client file that no longer matches the schema fails here, not in the app."""
    schema = build_schema(settings)._schema

    errors = validate(schema, parse(path.read_text()))

    assert errors == []


def test_the_clients_ship_the_screens_the_issue_lists():
    """Web: dashboard, transactions, offers, settings. Mobile: home, card detail, history."""

    names = set(QUERIES)

    assert {
        "web/operations/dashboard.graphql",
        "web/operations/transactions.graphql",
        "web/operations/offers.graphql",
        "web/operations/settings.graphql",
        "mobile/home.graphql",
        "mobile/card-detail.graphql",
        "mobile/points-history.graphql",
    } <= names


def root_fields_used_by_clients() -> set[tuple[str, str]]:
    """(operation type, root field) of every operation under clients/."""
    used = set()
    for path in client_operation_files(CLIENTS):
        for definition in parse(path.read_text()).definitions:
            if isinstance(definition, OperationDefinitionNode):
                for selection in definition.selection_set.selections:
                    used.add((definition.operation.value, selection.name.value))  # type: ignore[attr-defined]
    return used


def member_actions(settings) -> set[tuple[str, str]]:
    """Every mutation and subscription of the schema that the contract names (each is something
    a member does in an app); all of the schema's when the contract is not beside the checkout."""
    schema = build_schema(settings)._schema
    actions = {
        (kind, name)
        for kind, root in (
            ("mutation", schema.mutation_type),
            ("subscription", schema.subscription_type),
        )
        if root is not None
        for name in root.fields
    }
    if not CONTRACT.exists():
        return actions
    contract = parse_sdl(CONTRACT.read_text())
    named = {
        (kind, name)
        for kind, root in (
            ("mutation", contract.mutation_type),
            ("subscription", contract.subscription_type),
        )
        if root is not None
        for name in root.fields
    }
    return actions & named


def test_every_contract_mutation_and_subscription_is_sent_by_a_client_operation(settings):
    """Trusted-documents mode runs only committed operations: an action no client file sends
    is one that neither app can perform in production."""

    unused = member_actions(settings) - root_fields_used_by_clients()

    assert unused == set(), f"no operation under clients/ sends {sorted(unused)}"


def test_both_apps_send_their_own_sign_in_and_live_points():
    """The web portal and the mobile app each ship their own login and balance subscription."""
    web = {client_operation(p)["name"] for p in client_operation_files(CLIENTS / "web")}
    mobile = {client_operation(p)["name"] for p in client_operation_files(CLIENTS / "mobile")}

    assert {"WebLogin", "WebVerifyTwoFactor", "WebPointsBalanceChanged"} <= web
    assert {"MobileLogin", "MobileVerifyTwoFactor", "MobilePointsBalanceChanged"} <= mobile


_numbers = iter(range(10**9, 10**10))


async def member_with(*, cards: int, purchases: int) -> tuple[Member, str, list[Card]]:
    """A signed-in member with linked cards, purchases spread over them (each with its EARN entry
    and lot), preferences, and activations of the offers in the database."""
    member, token = await signed_in_member()
    now = datetime.now(UTC)
    linked = []
    for _ in range(cards):
        body = f"29{next(_numbers)}"
        linked.append(
            await Card.create(
                number=body + str(check_digit(body)),
                code_hash=hashlib.sha256(body.encode()).hexdigest(),
                member_id=member.id,
                status=CardStatus.ACTIVE,
                linked_at=now,
            )
        )
    await Purchase.bulk_create(
        [
            Purchase(
                receipt_id=f"M{member.id}-{n}",
                request_fingerprint="0" * 64,
                card_id=linked[n % cards].id,
                member_id=member.id,
                store_id="store-1",
                total=Decimal("250.00"),
                occurred_at=now - timedelta(hours=n + 1),
                points_earned=25,
                recorded_at=now,
            )
            for n in range(purchases)
        ],
        batch_size=500,
    )
    rows = await Purchase.filter(member_id=member.id).order_by("id")
    await PointsEntry.bulk_create(
        [
            PointsEntry(
                member_id=member.id,
                card_id=row.card_id,
                kind=EntryKind.EARN,
                amount=25,
                occurred_at=row.occurred_at,
                purchase_id=row.id,
            )
            for row in rows
        ],
        batch_size=500,
    )
    entries = await PointsEntry.filter(member_id=member.id).order_by("id")
    await PointsLot.bulk_create(
        [
            PointsLot(
                member_id=member.id,
                card_id=entry.card_id,
                earn_entry_id=entry.id,
                amount=25,
                remaining=25,
                available_at=entry.occurred_at + timedelta(days=14),
                expires_at=entry.occurred_at + timedelta(days=365),
            )
            for entry in entries
        ],
        batch_size=500,
    )
    # The tier as the till evaluates it when receipts land (these rows bypass the till).
    async with events.transaction():
        await reevaluate(member_id=member.id, now=now, settings=Settings(_env_file=None))  # type: ignore[call-arg]
    await Preferences.create(member_id=member.id, updated_at=now)
    for offer in await Offer.all():
        await OfferActivation.create(offer_id=offer.id, member_id=member.id, activated_at=now)
    return member, token, linked


async def create_offers(count: int) -> None:
    now = datetime.now(UTC)
    await Offer.bulk_create(
        [
            Offer(
                title=f"Offer {n}",
                description="Ten percent off",
                discount_percent=10,
                valid_from=now - timedelta(days=1),
                valid_until=now + timedelta(days=n + 1),
                exclusive=n % 3 == 0,
            )
            for n in range(count)
        ]
    )


def variables_for(path: str, card: Card) -> dict[str, Any]:
    if path == "mobile/card-detail.graphql":
        return {"id": to_global_id("Card", card.id)}
    if path == "web/operations/transactions.graphql":
        return {"cardId": to_global_id("Card", card.id), "first": 20}
    return {}


async def statements_of(client, path: str, member: tuple[Member, str, list[Card]]) -> int:
    _, token, cards = member
    body, log = await gql_with_statements(
        client, QUERIES[path], variables_for(path, cards[-1]), token=token
    )
    assert "errors" not in body, body
    return log.count


@pytest.mark.parametrize("path", sorted(QUERIES))
async def test_each_client_query_issues_as_many_statements_for_a_big_member_as_for_a_small_one(
    client, path
):
    """1 card and 5 purchases, or 5 cards and 2,000 purchases: the same number of statements."""
    await create_offers(12)
    small = await member_with(cards=1, purchases=5)
    big = await member_with(cards=5, purchases=2000)

    for_small = await statements_of(client, path, small)
    for_big = await statements_of(client, path, big)

    assert for_small == for_big


async def test_the_web_dashboard_needs_at_most_eight_statements(client):
    """Session, cards, balance, transactions with their cards, offers with `activated`: <= 8."""
    await create_offers(12)
    member = await member_with(cards=5, purchases=40)

    count = await statements_of(client, "web/operations/dashboard.graphql", member)

    assert count <= DASHBOARD_STATEMENT_LIMIT
