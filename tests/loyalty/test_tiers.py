"""Tiers of the Metropolia program: the program's rules, progress, multipliers, the grace rule,
opting out, closing, the export, and offers with a minimum tier."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from bff.identity.models import ProgramStatus
from bff.loyalty.models import EntryKind, MemberTier, PointsEntry, TierChange, TierCode
from bff.loyalty.purchases import PurchaseRequest, record_purchase
from bff.loyalty.tiers import read_tiers
from bff.settings import Settings
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.loyalty.store import buy, issue_card
from tests.loyalty.test_card_lifecycle import UNLINK
from tests.loyalty.test_linking import link
from tests.loyalty.test_program import CLOSE, JOIN, PASSWORD, opt_out
from tests.offers.test_offers import ACTIVATE, create_offer
from tests.sql_counter import gql_with_statements

PROGRAM = """
query {
  program {
    name termsVersion currencyUnitsPerPoint pendingDays expiryDays
    tiers { code name threshold pointsMultiplier benefits }
  }
}
"""
MY_TIER = """
query {
  me {
    tier {
      tier { code name pointsMultiplier }
      since windowStartsAt windowEndsAt windowSpend
      nextTier { code threshold } spendToNextTier lapsesAt
    }
  }
}
"""
MY_OFFERS = """
query O($kind: OfferKind, $activated: Boolean) {
  me { offers(first: 50, kind: $kind, activated: $activated) {
    edges { node { id title kind minimumTier activated } } } }
}
"""
EXPORT = "query { me { dataExport } }"


async def my_tier(client, token):
    body = await gql(client, MY_TIER, token=token)
    assert "errors" not in body, body
    return body["data"]["me"]["tier"]


async def member_with_card(client, **member_fields):
    member, token = await signed_in_member(password=PASSWORD, **member_fields)
    number, code = await issue_card(client)
    assert (await link(client, token, number, code))["userErrors"] == []
    return member, token, number


def at(year, month, day=1, hour=12):
    return datetime(year, month, day, hour, tzinfo=UTC)


async def till(settings, number, total, *, when):
    """A receipt recorded at `when` (the till's clock), through the domain the API calls."""
    request = PurchaseRequest(
        receipt_id=f"T-{number}-{when.isoformat()}-{total}",
        card_number=number,
        store_id="store-1",
        total=Decimal(total),
        occurred_at=when,
    )
    return await record_purchase(request=request, settings=settings, now=when)


async def test_the_program_shows_its_name_rules_and_tiers_without_a_session(client):
    """Query.program: Metropolia, the earn rate and periods, Blue/Silver/Gold lowest first."""

    body = await gql(client, PROGRAM)

    program = body["data"]["program"]
    assert program["name"] == "Metropolia"
    assert program["currencyUnitsPerPoint"] == "10"
    assert (program["pendingDays"], program["expiryDays"]) == (14, 365)
    assert [(t["code"], t["threshold"], t["pointsMultiplier"]) for t in program["tiers"]] == [
        ("BLUE", "0", "1.00"),
        ("SILVER", "150000", "1.25"),
        ("GOLD", "500000", "1.50"),
    ]
    assert all(tier["benefits"] for tier in program["tiers"])


async def test_a_new_member_is_blue_with_the_spend_still_needed_for_silver(client):
    """Spend in the window counts towards Silver; nothing lapses at the lowest tier."""
    _, token, number = await member_with_card(client)
    await buy(client, number, "1000.00")

    status = await my_tier(client, token)

    assert status["tier"]["code"] == "BLUE"
    assert Decimal(status["windowSpend"]) == Decimal("1000.00")
    assert status["nextTier"]["code"] == "SILVER"
    assert Decimal(status["spendToNextTier"]) == Decimal("149000.00")
    assert status["lapsesAt"] is None


async def test_the_purchase_reaching_a_threshold_raises_the_tier_at_once_and_records_it(client):
    """150,000 in the window: Silver from that purchase on, one history row, one change."""
    member, token, number = await member_with_card(client)
    await buy(client, number, "100000.00")
    await buy(client, number, "50000.00")

    status = await my_tier(client, token)

    assert status["tier"]["code"] == "SILVER"
    assert status["nextTier"]["code"] == "GOLD"
    assert Decimal(status["spendToNextTier"]) == Decimal("350000.00")
    changes = await TierChange.filter(member_id=member.id)
    assert [(c.from_tier, c.to_tier) for c in changes] == [(TierCode.BLUE, TierCode.SILVER)]


async def test_the_multiplier_of_the_tier_held_is_applied_and_recorded_on_the_earn_entry(client):
    """At Blue 150,000 earns 15,000 (x1.00); the next 1,000 at Silver earn 125 (x1.25)."""
    member, _, number = await member_with_card(client)

    first = await buy(client, number, "150000.00")
    second = await buy(client, number, "1000.00")

    assert (first["pointsEarned"], second["pointsEarned"]) == (15000, 125)
    entries = await PointsEntry.filter(member_id=member.id, kind=EntryKind.EARN).order_by("id")
    assert [entry.multiplier for entry in entries] == [Decimal("1.00"), Decimal("1.25")]


async def test_a_tier_is_kept_through_the_window_and_drops_only_when_the_month_turns(
    client, settings
):
    """Gold from January spend holds through April (lapsing on May 1) and drops on May 1."""
    member, _, number = await member_with_card(client)
    await till(settings, number, "500000.00", when=at(2026, 1, 15))

    april = (await read_tiers(member_ids=[member.id], now=at(2026, 4, 30, 23), settings=settings))[
        member.id
    ]
    may = (await read_tiers(member_ids=[member.id], now=at(2026, 5, 1, 0), settings=settings))[
        member.id
    ]

    assert april.tier.code is TierCode.GOLD
    assert april.window_starts_at == at(2026, 1, 1, 0)
    assert april.lapses_at == at(2026, 5, 1, 0)
    assert may.tier.code is TierCode.BLUE
    assert may.since == at(2026, 5, 1, 0)
    assert may.window_spend == Decimal("0.00")
    changes = await TierChange.filter(member_id=member.id).order_by("id")
    assert [c.to_tier for c in changes] == [TierCode.GOLD, TierCode.BLUE]


async def test_the_new_window_decides_the_tier_after_the_month_turns(client, settings):
    """Gold in January; Silver-worthy spend in March keeps Silver when May drops January."""
    member, _, number = await member_with_card(client)
    await till(settings, number, "500000.00", when=at(2026, 1, 10))
    await till(settings, number, "200000.00", when=at(2026, 3, 10))

    may = (await read_tiers(member_ids=[member.id], now=at(2026, 5, 2), settings=settings))[
        member.id
    ]

    assert may.tier.code is TierCode.SILVER
    assert may.since == at(2026, 5, 1, 0)
    assert may.lapses_at is None or may.lapses_at == at(2026, 6, 1, 0)


async def test_a_read_is_one_evaluation_and_leaves_the_stored_tier_alone_when_nothing_changed(
    client, settings
):
    """Reading twice in one month writes nothing when the tier is unchanged."""
    member, _, number = await member_with_card(client)
    await till(settings, number, "1000.00", when=at(2026, 2, 3))
    stored = await MemberTier.get(member_id=member.id)

    await read_tiers(member_ids=[member.id], now=at(2026, 2, 20), settings=settings)

    assert (await MemberTier.get(member_id=member.id)).since == stored.since
    assert not await TierChange.filter(member_id=member.id).exists()


async def test_opting_out_resets_the_tier_and_rejoining_starts_at_blue(client):
    """Silver, then opt out: back to Blue; rejoined, the old spend no longer counts."""
    member, token, number = await member_with_card(client)
    await buy(client, number, "150000.00")
    cards = await gql(client, "query { me { cards { id } } }", token=token)
    card_id = cards["data"]["me"]["cards"][0]["id"]
    await gql(client, UNLINK, {"input": {"cardId": card_id}}, token=token)
    assert (await opt_out(client, token))["userErrors"] == []
    out = await gql(client, MY_TIER, token=token)

    await gql(client, JOIN, {"input": {"acceptRules": True}}, token=token)
    status = await my_tier(client, token)

    assert out["data"]["me"]["tier"] is None
    assert status["tier"]["code"] == "BLUE"
    assert Decimal(status["windowSpend"]) == Decimal("0.00")
    changes = await TierChange.filter(member_id=member.id).order_by("id")
    assert [c.to_tier for c in changes] == [TierCode.SILVER, TierCode.BLUE]


async def test_closing_the_account_erases_the_tier_and_its_history(client):
    """No tier row and no tier history survive the account."""
    member, token, number = await member_with_card(client)
    await buy(client, number, "150000.00")

    body = await gql(client, CLOSE, {"input": {"password": PASSWORD}}, token=token)

    assert body["data"]["closeAccount"]["ok"] is True
    assert not await MemberTier.filter(member_id=member.id).exists()
    assert not await TierChange.filter(member_id=member.id).exists()


async def test_the_data_export_lists_the_tier_history_and_the_multipliers(client):
    """tierHistory names each change; ledger entries carry their multiplier."""
    _, token, number = await member_with_card(client)
    await buy(client, number, "150000.00")

    body = await gql(client, EXPORT, token=token)

    export = body["data"]["me"]["dataExport"]
    assert [(c["from"], c["to"]) for c in export["tierHistory"]] == [("BLUE", "SILVER")]
    assert export["pointsLedger"][0]["multiplier"] == "1.00"


async def test_an_opted_out_member_has_no_tier(client):
    """me.tier is null unless ENROLLED."""
    _, token = await signed_in_member(program_status=ProgramStatus.OPTED_OUT)

    body = await gql(client, MY_TIER, token=token)

    assert body["data"]["me"]["tier"] is None


async def test_an_offer_with_a_minimum_tier_is_seen_and_activated_only_from_that_tier(client):
    """A Silver offer: hidden from and not activatable by a Blue member, open to a Silver one."""
    offer = await create_offer(client, "Silver deal", minimumTier="SILVER")
    _, blue_token, _ = await member_with_card(client)
    _, silver_token, number = await member_with_card(client)
    await buy(client, number, "150000.00")

    blue = await gql(client, MY_OFFERS, token=blue_token)
    refused = await gql(client, ACTIVATE, {"input": {"offerId": offer}}, token=blue_token)
    silver = await gql(client, MY_OFFERS, token=silver_token)
    accepted = await gql(client, ACTIVATE, {"input": {"offerId": offer}}, token=silver_token)

    assert blue["data"]["me"]["offers"]["edges"] == []
    assert refused["data"]["activateOffer"]["userErrors"][0]["code"] == "OFFER_NOT_AVAILABLE"
    (edge,) = silver["data"]["me"]["offers"]["edges"]
    assert (edge["node"]["minimumTier"], edge["node"]["kind"]) == ("SILVER", "PUBLIC")
    assert accepted["data"]["activateOffer"]["userErrors"] == []


async def test_offers_filter_by_kind_and_by_activation(client):
    """kind: PUBLIC, EXCLUSIVE, PERSONAL; activated: true or false."""
    member, token, _ = await member_with_card(client)
    public = await create_offer(client, "Public")
    await create_offer(client, "Exclusive", exclusive=True)
    await create_offer(client, "Personal", memberEmail=member.email)
    await gql(client, ACTIVATE, {"input": {"offerId": public}}, token=token)

    def titles(body):
        return sorted(edge["node"]["title"] for edge in body["data"]["me"]["offers"]["edges"])

    by_kind = {
        kind: titles(await gql(client, MY_OFFERS, {"kind": kind}, token=token))
        for kind in ("PUBLIC", "EXCLUSIVE", "PERSONAL")
    }
    activated = titles(await gql(client, MY_OFFERS, {"activated": True}, token=token))
    not_activated = titles(await gql(client, MY_OFFERS, {"activated": False}, token=token))

    assert by_kind == {"PUBLIC": ["Public"], "EXCLUSIVE": ["Exclusive"], "PERSONAL": ["Personal"]}
    assert activated == ["Public"]
    assert not_activated == ["Exclusive", "Personal"]


def test_tier_settings_need_three_rising_thresholds_from_zero():
    """Configurable, but never two tiers or thresholds that fall."""
    with pytest.raises(ValidationError):
        Settings(_env_file=None, tier_thresholds="0,500000,150000")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(_env_file=None, tier_names="Blue,Gold")  # type: ignore[call-arg]

    custom = Settings(_env_file=None, tier_thresholds="0,100,200")  # type: ignore[call-arg]

    assert custom.tier_thresholds == [Decimal(0), Decimal(100), Decimal(200)]


async def test_one_request_evaluates_the_tier_once_for_every_field_that_needs_it(client):
    """Two `tier` fields and the offers (which filter by tier) share one evaluation: one
    statement reads the tier, so the fields of one read never disagree."""
    _, token, number = await member_with_card(client)
    await buy(client, number, "1000.00")
    query = """
    query {
      me {
        a: tier { tier { code } windowSpend }
        b: tier { spendToNextTier }
        offers { edges { node { id } } }
      }
    }
    """

    body, log = await gql_with_statements(client, query, token=token)

    assert "errors" not in body, body
    assert len([sql for sql in log.statements if "member_tier" in sql]) == 1
    a, b = body["data"]["me"]["a"], body["data"]["me"]["b"]
    assert Decimal(a["windowSpend"]) + Decimal(b["spendToNextTier"]) == Decimal("150000.00")
