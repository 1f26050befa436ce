"""Offers at the till: `offerIds` on POST /internal/v1/purchases applies a member's activated,
valid offers, records their use (`Offer.usedAt`), and refuses the whole purchase otherwise."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bff.identity.models import Member, ProgramStatus
from bff.ids import expect_global_id, to_global_id
from bff.loyalty.models import PointsEntry, Purchase
from bff.offers.models import Offer, OfferActivation
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.loyalty.store import issue_card, receipt, store_post
from tests.loyalty.test_linking import link
from tests.offers.test_offers import ACTIVATE, create_offer

MY_OFFERS = "query { me { offers(first: 50) { edges { node { id title activated usedAt } } } } }"
PUBLIC_OFFERS = "query { offers { edges { node { id usedAt } } } }"


async def member_with_card(client):
    """A signed-in member with one linked card: (member, token, card number)."""
    member, token = await signed_in_member()
    number, code = await issue_card(client)
    await link(client, token, number, code)
    return member, token, number


async def activate(client, token, offer_id):
    body = await gql(client, ACTIVATE, {"input": {"offerId": offer_id}}, token=token)
    assert body["data"]["activateOffer"]["userErrors"] == [], body


async def activated_offer(client, token, title="Coffee", **extra):
    offer_id = await create_offer(client, title, **extra)
    await activate(client, token, offer_id)
    return offer_id


async def used_at(client, token) -> dict[str, str | None]:
    body = await gql(client, MY_OFFERS, token=token)
    return {
        edge["node"]["title"]: edge["node"]["usedAt"]
        for edge in body["data"]["me"]["offers"]["edges"]
    }


async def test_an_activated_offer_is_applied_and_its_use_recorded(client):
    """The answer says what was applied; Offer.usedAt is the purchase's time for the member."""
    _, token, number = await member_with_card(client)
    offer_id = await activated_offer(client, token, "Coffee")
    await create_offer(client, "Tea")
    bought_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    body = receipt(number, "200.00", offerIds=[offer_id], occurredAt=bought_at.isoformat())

    response = await store_post(client, "purchases", body)

    assert response.status_code == 201, response.text
    assert response.json() == {
        "receiptId": body["receiptId"],
        "pointsEarned": 20,
        "pointsRedeemed": 0,
        "couponsUsed": [],
        "offersApplied": [{"id": offer_id, "title": "Coffee", "discountPercent": 10}],
    }
    uses = await used_at(client, token)
    assert datetime.fromisoformat(uses["Coffee"]) == bought_at
    assert uses["Tea"] is None


async def test_a_purchase_without_offers_applies_none(client):
    """No offerIds: an empty offersApplied, and no offer is marked used."""
    _, token, number = await member_with_card(client)
    await activated_offer(client, token)

    response = await store_post(client, "purchases", receipt(number, "50.00"))

    assert response.json()["offersApplied"] == []
    assert await OfferActivation.filter(used_at__isnull=False).count() == 0


async def test_the_same_receipt_again_answers_with_the_offers_it_applied(client):
    """A retried receipt gets the first answer, even though the offer is used by now."""
    _, token, number = await member_with_card(client)
    offer_id = await activated_offer(client, token)
    body = receipt(number, "200.00", offerIds=[offer_id])
    first = await store_post(client, "purchases", body)

    again = await store_post(client, "purchases", body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    other = await store_post(client, "purchases", {**body, "offerIds": []})
    assert other.status_code == 409
    assert other.json()["error"] == "IDEMPOTENCY_CONFLICT"


async def test_a_single_use_offer_applies_once(client):
    """The second purchase naming it is refused whole: 409 OFFER_NOT_AVAILABLE, no points."""
    _, token, number = await member_with_card(client)
    offer_id = await activated_offer(client, token)
    await store_post(client, "purchases", receipt(number, "100.00", offerIds=[offer_id]))

    response = await store_post(client, "purchases", receipt(number, "300.00", offerIds=[offer_id]))

    assert response.status_code == 409
    assert response.json() == {
        "error": "OFFER_NOT_AVAILABLE",
        "message": "The member has already used this offer.",
    }
    assert await Purchase.all().count() == 1
    assert sum(await PointsEntry.all().values_list("amount", flat=True)) == 10


async def test_an_offer_published_as_not_single_use_applies_at_every_purchase(client):
    """ "singleUse": false: applied again and again; usedAt is the latest use."""
    _, token, number = await member_with_card(client)
    offer_id = await activated_offer(client, token, "Every day", singleUse=False)
    now = datetime.now(UTC).replace(microsecond=0)
    times = [now - timedelta(hours=3), now - timedelta(hours=1), now - timedelta(hours=2)]

    statuses = [
        (
            await store_post(
                client,
                "purchases",
                receipt(number, "20.00", offerIds=[offer_id], occurredAt=at.isoformat()),
            )
        ).status_code
        for at in times
    ]

    assert statuses == [201, 201, 201]
    uses = await used_at(client, token)
    assert datetime.fromisoformat(uses["Every day"]) == now - timedelta(hours=1)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not activated", "The member has not activated this offer."),
        ("expired", "This offer is not valid at the purchase's time."),
        ("not started", "This offer is not valid at the purchase's time."),
        ("another member's", "This offer is not for this card's member."),
        ("exclusive, opted out", "This offer is not for this card's member."),
        ("unknown", "No offer has this id."),
    ],
)
async def test_an_offer_the_member_cannot_use_refuses_the_purchase_with_409(client, case, message):
    """Each reason is 409 OFFER_NOT_AVAILABLE with a message saying which, naming the offer's
    place in the list; nothing is recorded."""
    member, token, number = await member_with_card(client)
    good = await activated_offer(client, token, "Good")
    if case == "not activated":
        offer_id = await create_offer(client, "Bad")
    elif case == "expired":
        offer_id = await activated_offer(client, token, "Bad", starts=-10, ends=1)
        await _move_window(offer_id, days=-2)
    elif case == "not started":
        offer_id = await activated_offer(client, token, "Bad")
        await _move_window(offer_id, days=2)
    elif case == "another member's":
        other, _ = await signed_in_member()
        offer_id = await create_offer(client, "Bad", memberEmail=other.email)
    elif case == "exclusive, opted out":
        offer_id = await activated_offer(client, token, "Bad", exclusive=True)
        await Member.filter(id=member.id).update(program_status=ProgramStatus.OPTED_OUT)
    else:
        offer_id = to_global_id("Offer", 999_999)

    response = await store_post(
        client, "purchases", receipt(number, "100.00", offerIds=[good, offer_id])
    )

    assert response.status_code == 409
    assert response.json() == {"error": "OFFER_NOT_AVAILABLE", "message": message}
    assert await Purchase.all().count() == 0
    assert await OfferActivation.filter(used_at__isnull=False).count() == 0  # nothing half-applied


async def _move_window(offer_id: str, *, days: int) -> None:
    """Shift an offer's dates (after it was activated inside them)."""
    pk = expect_global_id(offer_id, "Offer", field="offerId")
    offer = await Offer.get(id=pk)
    await Offer.filter(id=pk).update(
        valid_from=offer.valid_from + timedelta(days=days),
        valid_until=offer.valid_until + timedelta(days=days),
    )


async def test_offers_on_a_card_no_member_holds_are_refused(client):
    """An unlinked card has no member, so no activated offers: 409 OFFER_NOT_AVAILABLE."""
    _, token = await signed_in_member()
    offer_id = await activated_offer(client, token)
    number, _ = await issue_card(client)

    response = await store_post(client, "purchases", receipt(number, "100.00", offerIds=[offer_id]))

    assert response.status_code == 409
    assert response.json()["error"] == "OFFER_NOT_AVAILABLE"


@pytest.mark.parametrize(
    "offer_ids",
    [
        ["not-an-id"],
        [to_global_id("Card", 1)],
        [7],
        [None],
        ["x" * 100_000],
        "T2ZmZXI6MQ",
        [to_global_id("Offer", 1)] * 2,
        [to_global_id("Offer", n) for n in range(1, 22)],
    ],
)
async def test_malformed_offer_ids_are_422_with_details(client, offer_ids):
    """Not an offer's global id, repeated, or more than 20: 422 INVALID_INPUT, never a 500."""
    _, _, number = await member_with_card(client)

    response = await store_post(client, "purchases", receipt(number, "10.00", offerIds=offer_ids))

    assert response.status_code == 422
    assert response.json()["error"] == "INVALID_INPUT"
    assert response.json()["details"][0]["field"].startswith("offerIds")


async def test_used_at_is_null_for_anonymous_callers_and_other_members(client):
    """Only the member a till applied the offer for sees when."""
    _, token, number = await member_with_card(client)
    offer_id = await activated_offer(client, token)
    await store_post(client, "purchases", receipt(number, "100.00", offerIds=[offer_id]))
    _, stranger = await signed_in_member()

    anonymous = await gql(client, PUBLIC_OFFERS)
    theirs = await gql(client, MY_OFFERS, token=stranger)

    assert [edge["node"]["usedAt"] for edge in anonymous["data"]["offers"]["edges"]] == [None]
    assert [edge["node"]["usedAt"] for edge in theirs["data"]["me"]["offers"]["edges"]] == [None]


@pytest.mark.postgres_only
async def test_a_single_use_offer_presented_at_ten_tills_at_once_applies_once(client):
    """Ten purchases on the member's two cards name one single-use offer at once: one is
    recorded with it, nine are refused whole."""
    _, token, number = await member_with_card(client)
    second, code = await issue_card(client)
    await link(client, token, second, code)
    offer_id = await activated_offer(client, token)

    responses = await asyncio.gather(
        *(
            store_post(
                client,
                "purchases",
                receipt([number, second][till % 2], "100.00", offerIds=[offer_id]),
            )
            for till in range(10)
        )
    )

    assert sorted(response.status_code for response in responses) == [201] + [409] * 9
    assert await Purchase.all().count() == 1


async def test_an_offer_with_a_minimum_tier_applies_only_from_that_tier(client):
    """A Silver offer the member activated at Silver applies while they hold Silver; a Blue
    member's till gets 409 OFFER_NOT_AVAILABLE for it."""
    _, token, number = await member_with_card(client)
    _, _, blue_number = await member_with_card(client)
    await store_post(client, "purchases", receipt(number, "150000.00"))
    offer_id = await activated_offer(client, token, "Silver only", minimumTier="SILVER")

    silver = await store_post(client, "purchases", receipt(number, "10.00", offerIds=[offer_id]))
    blue = await store_post(client, "purchases", receipt(blue_number, "10.00", offerIds=[offer_id]))

    assert silver.status_code == 201, silver.text
    assert [offer["title"] for offer in silver.json()["offersApplied"]] == ["Silver only"]
    assert blue.status_code == 409
    assert blue.json()["message"] == "This offer is not for this card's member."
