"""Compiled execution answers exactly as Strawberry does: every query document of the clients'
manifest, on generated members (cards, purchases, expiring points, tiers, offers, coupons,
notifications), callers (signed in, anonymous, a bad token) and variables (valid, foreign, bad,
missing), gives the same bytes and status from both executors, with no more SQL statements."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bff import metrics
from bff.errors import DomainError
from bff.graphql.persisted import load_manifest, manifest_names
from bff.identity.models import Member, ProgramStatus
from bff.ids import to_global_id
from bff.loyalty.cards import attach_card, issue_card
from bff.loyalty.models import Card
from bff.loyalty.purchases import PurchaseRequest, record_purchase
from bff.loyalty.rewards import publish_reward, redeem_reward
from bff.offers.models import Offer, OfferActivation
from bff.outbox.models import Notification
from tests.conftest import empty_tables
from tests.factories import create_session, signed_in_member
from tests.sql_counter import count_statements

REPOSITORY = Path(__file__).resolve().parents[2]
MANIFEST = REPOSITORY / "clients" / "manifest.json"
NAMES = manifest_names(MANIFEST)
DOCUMENTS = {
    NAMES[sha256_hash]: body
    for sha256_hash, body in load_manifest(MANIFEST).items()
    if body.lstrip().startswith("query")
}
EXPORTED_AT = re.compile(rb'"exportedAt":"[^"]*"')
REQUEST_ID = "differential-test"
ACCEPTS = ["application/json", "application/graphql-response+json"]
_serial = itertools.count(1)

# What a generated member holds.
cards = st.lists(
    st.tuples(
        st.booleans(),  # linked to the member (else issued to nobody)
        st.lists(  # purchases on it: total and age in days (in the return window or past it)
            st.tuples(st.integers(0, 3000), st.sampled_from([0, 5, 20, 200, 350])),
            max_size=3,
        ),
    ),
    max_size=3,
)
offers = st.lists(
    st.tuples(
        st.booleans(),  # exclusive
        st.booleans(),  # activated by the member
        st.sampled_from([None, "SILVER", "GOLD"]),  # minimum tier
        st.integers(1, 40),  # days left
        st.booleans(),  # targeted at the member
    ),
    max_size=4,
)
worlds = st.fixed_dictionaries(
    {
        "caller": st.sampled_from(["member", "member", "member", "anonymous", "bad token"]),
        "opted_out": st.booleans(),
        "cards": cards,
        "offers": offers,
        "rewards": st.lists(st.sampled_from([1, 50, 100_000]), max_size=2),
        "redeem": st.booleans(),
        "notifications": st.integers(0, 2),
    }
)
# Variables: good ones, foreign ids, junk, wrong types, and leaving them out.
firsts = st.sampled_from([None, 0, 1, 2, 20, -1, 101, "two", 2.5])
afters = st.sampled_from([None, "", "junk", "eyJhIjoxfQ", 7])
ids = st.sampled_from(["own card", "other card", "member id", "junk", 5, None, ""])
variables = st.fixed_dictionaries(
    {},
    optional={
        "first": firsts,
        "after": afters,
        "id": ids,
        "cardId": ids,
        "affordable": st.sampled_from([None, True, False, "yes"]),
        "status": st.sampled_from([None, "ACTIVE", "USED", "CANCELLED", "BOGUS", 3]),
        "kind": st.sampled_from([None, "PUBLIC", "EXCLUSIVE", "PERSONAL", "NOPE"]),
        "activated": st.sampled_from([None, True, False]),
    },
)


def compiled_documents(app: Any) -> Any:
    for route in app.routes:
        if getattr(route, "path", None) == "/graphql" and hasattr(route.endpoint, "schema"):
            return route.endpoint.schema.compiled_documents
    raise LookupError("no /graphql route")


async def make_world(spec: dict[str, Any], app_settings: Any) -> dict[str, Any]:
    """The generated member and caller in a database of their own."""
    await empty_tables()
    now = datetime.now(UTC)
    member, token = await signed_in_member()
    other, _ = await signed_in_member()
    other_card = (await issue_card(settings=app_settings)).card
    await attach_card(
        member_id=other.id, card_id=other_card.id, label=None, settings=app_settings, now=now
    )
    own: list[Card] = []
    for linked, purchases in spec["cards"]:
        card = (await issue_card(settings=app_settings)).card
        if linked:
            await attach_card(
                member_id=member.id, card_id=card.id, label="mine", settings=app_settings, now=now
            )
            own.append(card)
        for total, age in purchases:
            await record_purchase(
                request=PurchaseRequest(
                    receipt_id=f"R{next(_serial)}",
                    card_number=card.number,
                    store_id="s1",
                    total=Decimal(total) + Decimal("0.50"),
                    occurred_at=now - timedelta(days=age, minutes=next(_serial)),
                    points_to_redeem=0,
                ),
                settings=app_settings,
                now=now,
            )
    await add_offers_rewards_and_notices(spec, member, app_settings, now)
    if spec["opted_out"]:
        await Member.filter(id=member.id).update(program_status=ProgramStatus.OPTED_OUT)
    caller = {"member": token, "anonymous": None, "bad token": "not-a-token"}[spec["caller"]]
    if spec["caller"] == "member":
        caller = await create_session(member)  # a fresh session: last_seen_at is now
    return {"token": caller, "own": own, "other_card": other_card, "member": member}


async def add_offers_rewards_and_notices(
    spec: dict[str, Any], member: Member, app_settings: Any, now: datetime
) -> None:
    for exclusive, activated, tier, days, targeted in spec["offers"]:
        offer = await Offer.create(
            title=f"Offer {next(_serial)}",
            description="Off",
            discount_percent=10,
            valid_from=now - timedelta(days=1),
            valid_until=now + timedelta(days=days, minutes=next(_serial)),
            exclusive=exclusive,
            minimum_tier=tier,
            member_id=member.id if targeted else None,
        )
        if activated:
            await OfferActivation.create(offer_id=offer.id, member_id=member.id, activated_at=now)
    for cost in spec["rewards"]:
        reward = await publish_reward(
            title=f"Reward {cost}",
            description="",
            cost=cost,
            stock=None,
            valid_until=None,
            minimum_tier=None,
            coupon_valid_days=30,
        )
        if spec["redeem"]:
            with contextlib.suppress(DomainError):  # not enough points: no coupon
                await redeem_reward(
                    member_id=member.id,
                    reward_id=reward.id,
                    idempotency_key=f"K{next(_serial)}",
                    settings=app_settings,
                    now=now,
                )
    for n in range(spec["notifications"]):
        await Notification.create(
            member_id=member.id,
            message_id=next(_serial),
            kind="points",
            title=f"Notice {n}",
            body="Points",
            created_at=now - timedelta(minutes=n),
        )


def concrete(raw: dict[str, Any], world: dict[str, Any]) -> dict[str, Any]:
    def value(name: str, item: Any) -> Any:
        if name not in {"id", "cardId"}:
            return item
        if item == "own card":
            return to_global_id("Card", world["own"][0].id) if world["own"] else "Q2FyZDox"
        if item == "other card":
            return to_global_id("Card", world["other_card"].id)
        if item == "member id":
            return to_global_id("Member", world["member"].id)
        return item

    return {name: value(name, item) for name, item in raw.items()}


async def post(client: Any, name: str, variables: dict[str, Any], token: str | None, accept: str):
    headers = {"X-Request-ID": REQUEST_ID, "Accept": accept, "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = {"query": DOCUMENTS[name], "operationName": name, "variables": variables}
    with count_statements() as log:
        response = await client.post("/graphql", content=json.dumps(body), headers=headers)
    return response, log.count


def timeless(body: bytes) -> bytes:
    """The body without the one value that is the clock's, not the data's: the data export's
    `exportedAt` (the time of the request)."""
    return EXPORTED_AT.sub(b'"exportedAt":"-"', body)


def executions(name: str, executor: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "bff_graphql_executions_total", {"operation": name, "executor": executor}
    )
    return value or 0.0


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
@settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failure prints as found: no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=worlds, raw=variables, accept=st.sampled_from(ACCEPTS))
async def test_each_query_document_answers_the_same_compiled_and_on_strawberry(  # noqa: PLR0917
    app, client, settings, name, spec, raw, accept
):
    """Same bytes, same status, no more statements, on generated data and variables."""
    documents = compiled_documents(app)
    world = await make_world(spec, settings)
    variables = concrete(raw, world)
    documents.enabled = False
    try:
        await post(client, name, variables, world["token"], accept)  # warm both alike
        reference, reference_statements = await post(
            client, name, variables, world["token"], accept
        )
    finally:
        documents.enabled = True
    before = executions(name, "compiled")
    compiled, compiled_statements = await post(client, name, variables, world["token"], accept)

    assert executions(name, "compiled") - before == (name in documents.compiled_names())
    assert compiled.status_code == reference.status_code
    assert timeless(compiled.content) == timeless(reference.content)
    assert compiled_statements <= reference_statements


async def test_every_manifest_query_document_is_served_compiled(app, client):
    """A silent fallback cannot pass for compiled: the executions metric names the executor."""
    documents = compiled_documents(app)
    compiled = set(documents.compiled_names())
    member, token = await signed_in_member()
    del member

    for name in sorted(DOCUMENTS):
        before = executions(name, "compiled")
        await post(client, name, {}, token, "application/json")
        served_compiled = executions(name, "compiled") - before == 1
        assert served_compiled == (name in compiled), name
    assert compiled == set(DOCUMENTS)
    assert documents.refusals == {}


async def test_with_compiled_execution_off_every_document_runs_on_strawberry(app, client):
    """COMPILED_EXECUTION=false: the switch the setting turns."""
    documents = compiled_documents(app)
    _, token = await signed_in_member()
    documents.enabled = False
    try:
        before = executions("WebDashboard", "strawberry")
        await post(client, "WebDashboard", {}, token, "application/json")
    finally:
        documents.enabled = True

    assert executions("WebDashboard", "strawberry") - before == 1


UNLISTED = """
query Unlisted($withCards: Boolean!, $noOffers: Boolean = false, $first: Int = 2) {
  __typename
  viewer: me {
    ...Names
    kind: __typename
    wallet: cards @include(if: $withCards) { ... on Card { id number } label }
    points { available ...Balance }
    offers(first: $first) @skip(if: $noOffers) {
      edges { node { title, activated, heading: title } }
      pageInfo { hasNextPage }
    }
    recent: transactions(first: 1) { edges { cursor node { total card { id } } } }
  }
  again: me { firstName }
}
fragment Names on Member { firstName lastName }
fragment Balance on PointsBalance { pending expiringSoon }
"""


@settings(
    max_examples=10,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    spec=worlds,
    raw=st.fixed_dictionaries(
        {},
        optional={
            "withCards": st.sampled_from([True, False, None, "yes"]),
            "noOffers": st.sampled_from([True, False]),  # null: no plan, runs on Strawberry
            "first": firsts,
        },
    ),
)
async def test_an_unlisted_document_seen_often_runs_compiled_with_the_same_answers(
    app, client, settings, spec, raw
):
    """Aliases, fragments, __typename, @include/@skip on variables and defaults: compiled once
    seen COMPILED_EXECUTION_THRESHOLD times, then the same bytes and status as Strawberry."""
    documents = compiled_documents(app)
    world = await make_world(spec, settings)
    headers = {"X-Request-ID": REQUEST_ID, "Content-Type": "application/json"}
    if world["token"]:
        headers["Authorization"] = f"Bearer {world['token']}"
    body = json.dumps({"query": UNLISTED, "variables": raw})

    documents.enabled = False
    try:
        await client.post("/graphql", content=body, headers=headers)
        with count_statements() as reference_log:
            reference = await client.post("/graphql", content=body, headers=headers)
    finally:
        documents.enabled = True
    for _ in range(documents.threshold):  # seen often enough: compiled from now on
        await client.post("/graphql", content=body, headers=headers)
    before = executions("other", "compiled")
    with count_statements() as compiled_log:
        compiled = await client.post("/graphql", content=body, headers=headers)

    assert executions("other", "compiled") - before == 1
    assert compiled.status_code == reference.status_code
    assert compiled.content == reference.content
    assert compiled_log.count <= reference_log.count
