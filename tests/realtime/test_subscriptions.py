"""Subscriptions over graphql-transport-ws on /graphql: auth, isolation, limits and revocation."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from websockets.exceptions import InvalidStatus

from bff import events
from bff.graphql.schema import build_schema
from bff.graphql.session import cookie_name
from bff.graphql.view import GraphQLView
from bff.identity.models import Member, Session
from bff.identity.tokens import token_hash
from bff.loyalty.cards import attach_card, set_card_status
from bff.loyalty.models import Card, CardStatus, EntryKind, PointsEntry, PointsLot
from tests.conftest import make_settings
from tests.factories import signed_in_member
from tests.graphql_client import gql
from tests.loyalty.rewards_helpers import member_with_points, redeem
from tests.loyalty.store import buy, issue_card, publish_reward
from tests.realtime.conftest import serving
from tests.realtime.wsclient import graphql_ws, signed_in_ws

BALANCE = "subscription { pointsBalanceChanged { available pending lifetimeEarned } }"
CARD_STATUS = "subscription { cardStatusChanged { id number status } }"
MY_POINTS = "query { me { points { available expired } } }"


async def linked_card(client, settings, member: Member) -> tuple[str, int]:
    """A card issued by the store API and linked to `member`: (number, card id)."""
    number, _ = await issue_card(client)
    card = await Card.get(number=number)
    await attach_card(member_id=member.id, card_id=card.id, label=None, settings=settings)
    return number, card.id


async def next_payload(ws) -> dict:
    async with asyncio.timeout(10):
        message = await ws.receive()
    assert message["type"] == "next", message
    return message["payload"]["data"]


async def wait_for_subscribers(member_id: int, count: int = 1) -> None:
    """Until this process's bus has the subscriptions the server set up (no initial message)."""
    async with asyncio.timeout(10):
        while events.get_bus().subscriber_count(member_id) < count:  # noqa: ASYNC110 (a count)
            await asyncio.sleep(0.01)


async def test_a_subscriber_gets_its_balance_at_once_and_again_after_a_purchase(
    client, settings, live_url
):
    """The first message is the current balance; a till purchase sends the new one."""
    member, token = await signed_in_member()
    number, _ = await linked_card(client, settings, member)

    async with signed_in_ws(live_url, token) as ws:
        await ws.subscribe("1", BALANCE)
        initial = await next_payload(ws)
        await buy(client, number, "125.00")
        after = await next_payload(ws)

    assert initial == {"pointsBalanceChanged": {"available": 0, "pending": 0, "lifetimeEarned": 0}}
    assert after == {"pointsBalanceChanged": {"available": 0, "pending": 12, "lifetimeEarned": 12}}


async def test_a_member_receives_nothing_for_another_members_purchase(client, settings, live_url):
    """Another member's purchase sends no message: the next one is for the member's own."""
    member, token = await signed_in_member()
    other, _ = await signed_in_member()
    mine, _ = await linked_card(client, settings, member)
    theirs, _ = await linked_card(client, settings, other)

    async with signed_in_ws(live_url, token) as ws:
        await ws.subscribe("1", BALANCE)
        await next_payload(ws)
        await buy(client, theirs, "990.00")
        await buy(client, mine, "50.00")
        received = await next_payload(ws)

    assert received["pointsBalanceChanged"]["pending"] == 5


async def test_the_session_cookie_authenticates_a_websocket(client, settings, live_url):
    """A browser's cookie on the handshake is enough; connection_init may stay empty."""
    _, token = await signed_in_member()

    async with graphql_ws(live_url, headers={"Cookie": f"{cookie_name(settings)}={token}"}) as ws:
        ack = await ws.init()
        await ws.subscribe("1", BALANCE)
        initial = await next_payload(ws)

    assert ack["type"] == "connection_ack"
    assert initial["pointsBalanceChanged"]["available"] == 0


@pytest.mark.parametrize(
    "payload",
    [{}, {"authorization": "Bearer not-a-session"}, {"authorization": "Basic abc"}],
    ids=["no-token", "unknown-token", "not-bearer"],
)
async def test_a_connection_without_a_valid_session_is_refused(live_url, payload):
    """connection_init without a live session closes the socket with 4403."""

    async with graphql_ws(live_url) as ws:
        await ws.send({"type": "connection_init", "payload": payload})
        code = await ws.close_code()

    assert code == 4403


async def test_a_revoked_session_is_refused_at_connection_init(client, live_url):
    """A revoked session's token no longer opens a websocket."""
    member, token = await signed_in_member()
    await Session.filter(token_hash=token_hash(token)).update(revoked_at=datetime.now(UTC))

    async with graphql_ws(live_url) as ws:
        await ws.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        code = await ws.close_code()

    assert code == 4403
    assert member.id


async def test_a_websocket_from_a_foreign_origin_is_refused(client, live_url):
    """A page outside CORS_ORIGINS cannot open a socket that would carry the member's cookie."""

    with pytest.raises(InvalidStatus) as refused:
        async with graphql_ws(live_url, origin="http://evil.example"):
            pass

    assert refused.value.response.status_code == 403


async def test_a_websocket_from_an_allowed_origin_is_accepted(client, live_url):
    """The web SPA's origin (CORS_ORIGINS) may connect."""
    _, token = await signed_in_member()

    async with graphql_ws(live_url, origin="http://web.example") as ws:
        ack = await ws.init({"authorization": f"Bearer {token}"})

    assert ack["type"] == "connection_ack"


async def test_a_connection_holds_at_most_the_configured_number_of_subscriptions(
    client, settings, live_url
):
    """The subscription past MAX_SUBSCRIPTIONS_PER_CONNECTION gets an error, the others run."""
    _, token = await signed_in_member()
    limit = settings.max_subscriptions_per_connection

    async with signed_in_ws(live_url, token) as ws:
        for number in range(limit):
            await ws.subscribe(str(number), BALANCE)
            await next_payload(ws)
        await ws.subscribe("over", BALANCE)
        async with asyncio.timeout(10):
            refused = await ws.receive()

    assert refused["type"] == "error"
    assert refused["id"] == "over"
    assert refused["payload"][0]["message"] == "Subscription limit reached"


async def test_a_connection_that_never_sends_connection_init_is_closed(app):
    """Past SUBSCRIPTION_INIT_TIMEOUT without connection_init the server closes with 4408."""
    settings = make_settings("unused://", subscription_init_timeout=timedelta(seconds=0.2))
    view = GraphQLView(build_schema(settings), settings)

    async with serving(view) as url, graphql_ws(url) as ws:
        code = await ws.close_code()

    assert code == 4408


async def test_revoking_the_session_closes_its_open_subscriptions(client, live_url):
    """A session-revoked event on the bus makes the server re-check and close with 4403."""
    member, token = await signed_in_member()

    async with signed_in_ws(live_url, token) as ws:
        await ws.subscribe("1", BALANCE)
        await next_payload(ws)
        session = await Session.get(token_hash=token_hash(token))
        await Session.filter(id=session.id).update(revoked_at=datetime.now(UTC))
        await events.publish(events.session_revoked(member_id=member.id, session_id=session.id))
        code = await ws.close_code()

    assert code == 4403


async def test_another_sessions_revocation_leaves_the_subscription_open(client, settings, live_url):
    """Ending one of the member's other sessions does not close this one's subscriptions."""
    member, token = await signed_in_member()
    number, _ = await linked_card(client, settings, member)

    async with signed_in_ws(live_url, token) as ws:
        await ws.subscribe("1", BALANCE)
        await next_payload(ws)
        await events.publish(events.session_revoked(member_id=member.id, session_id=None))
        await buy(client, number, "30.00")
        after = await next_payload(ws)

    assert after["pointsBalanceChanged"]["pending"] == 3


async def test_an_expired_session_is_noticed_by_the_periodic_check(app):
    """Without any event, the periodic re-check closes a subscription whose session ended."""
    settings = make_settings(
        "unused://", subscription_session_check_interval=timedelta(seconds=0.1)
    )
    view = GraphQLView(build_schema(settings), settings)
    _, token = await signed_in_member()

    async with serving(view) as url, signed_in_ws(url, token) as ws:
        await ws.subscribe("1", BALANCE)
        await next_payload(ws)
        await Session.filter(token_hash=token_hash(token)).update(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)
        )
        code = await ws.close_code()

    assert code == 4403


async def test_expiry_materialised_by_a_read_is_sent_to_subscribers(client, settings, live_url):
    """Points whose lifetime ended are expired by the next read, which notifies subscribers."""
    member, token = await signed_in_member()
    _, card_id = await linked_card(client, settings, member)
    long_ago = datetime.now(UTC) - timedelta(days=400)

    async with signed_in_ws(live_url, token) as ws:
        await ws.subscribe("1", BALANCE)
        await next_payload(ws)
        entry = await PointsEntry.create(
            member_id=member.id,
            card_id=card_id,
            kind=EntryKind.EARN,
            amount=7,
            occurred_at=long_ago,
        )
        await PointsLot.create(
            member_id=member.id,
            card_id=card_id,
            earn_entry_id=entry.id,
            amount=7,
            remaining=7,
            available_at=long_ago + timedelta(days=14),
            expires_at=long_ago + timedelta(days=365),
        )
        read = await gql(client, MY_POINTS, token=token)
        pushed = await next_payload(ws)

    assert read["data"]["me"]["points"] == {"available": 0, "expired": 7}
    assert pushed["pointsBalanceChanged"]["lifetimeEarned"] == 7
    assert pushed["pointsBalanceChanged"]["available"] == 0


async def test_deactivating_a_card_sends_it_with_its_new_status(client, settings, live_url):
    """cardStatusChanged sends the member's card after deactivation."""
    member, token = await signed_in_member()
    number, card_id = await linked_card(client, settings, member)

    async with signed_in_ws(live_url, token) as ws:
        await ws.subscribe("1", CARD_STATUS)
        await wait_for_subscribers(member.id)
        await set_card_status(member_id=member.id, card_id=card_id, status=CardStatus.INACTIVE)
        received = await next_payload(ws)

    assert received["cardStatusChanged"]["number"] == number
    assert received["cardStatusChanged"]["status"] == "INACTIVE"


async def test_a_subscription_needs_a_session_even_on_an_acknowledged_connection(live_url):
    """Without a session there is no connection to subscribe on: the server closes it first."""

    async with graphql_ws(live_url) as ws:
        await ws.send({"type": "subscribe", "id": "1", "payload": {"query": BALANCE}})
        code = await ws.close_code()

    assert code == 4401


async def test_a_subscription_sent_over_http_is_refused_with_a_clear_error(client, caplog):
    """POST /graphql with a subscription says to use the websocket; nothing is logged as a bug."""
    _, token = await signed_in_member()

    with caplog.at_level(logging.ERROR):
        body = await gql(client, BALANCE, token=token)

    assert caplog.records == []
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "graphql-transport-ws" in body["errors"][0]["message"]


async def test_a_new_subscription_rechecks_the_session(client, live_url):
    """A session revoked without any event is noticed at the next subscribe (closed, 4403)."""
    _, token = await signed_in_member()

    async with signed_in_ws(live_url, token) as ws:
        await ws.subscribe("1", BALANCE)
        await next_payload(ws)
        await Session.filter(token_hash=token_hash(token)).update(revoked_at=datetime.now(UTC))
        await ws.subscribe("2", BALANCE)
        code = await ws.close_code()

    assert code == 4403


async def test_a_query_sent_over_the_websocket_is_refused(client, live_url):
    """Queries and mutations go over HTTP: over the websocket they get one BAD_REQUEST error."""
    _, token = await signed_in_member()

    async with signed_in_ws(live_url, token) as ws:
        await ws.subscribe("1", MY_POINTS)
        async with asyncio.timeout(10):
            refused = await ws.receive()

    assert refused["id"] == "1"
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "POST /graphql" in refused["payload"]["errors"][0]["message"]


COUPON_CHANGED = "subscription { couponChanged { code status reward { title } } }"


async def test_a_coupon_subscriber_hears_of_its_issue_its_use_and_the_balance_moving(
    client, live_url
):
    """couponChanged sends the coupon when it is bought and again when a till uses it; the
    balance subscription hears of the purchase too."""
    member, token, number = await member_with_points(client, 300)
    reward_id = await publish_reward(client, "Coffee", cost=100)

    async with signed_in_ws(live_url, token) as ws:
        await ws.subscribe("1", COUPON_CHANGED)
        await ws.subscribe("2", BALANCE)
        initial_balance = await next_payload(ws)
        await wait_for_subscribers(member.id, count=2)
        coupon = (await redeem(client, token, reward_id))["coupon"]
        messages = [await ws.receive(), await ws.receive()]
        await buy(client, number, "10.00", couponCodes=[coupon["code"]])
        after_till = [await ws.receive(), await ws.receive()]

    by_id = {message["id"]: message["payload"]["data"] for message in messages}
    used = {message["id"]: message["payload"]["data"] for message in after_till}["1"]
    assert initial_balance["pointsBalanceChanged"]["available"] == 300
    assert by_id["1"] == {
        "couponChanged": {"code": coupon["code"], "status": "ACTIVE", "reward": {"title": "Coffee"}}
    }
    assert by_id["2"]["pointsBalanceChanged"]["available"] == 200
    assert used["couponChanged"]["status"] == "USED"


async def test_a_member_hears_nothing_of_another_members_coupons(client, live_url):
    """Another member's coupon sends nothing; the next message is the member's own."""
    member, token, _ = await member_with_points(client, 100)
    _, other, _ = await member_with_points(client, 100)
    reward_id = await publish_reward(client, "Coffee", cost=100)

    async with signed_in_ws(live_url, token) as ws:
        await ws.subscribe("1", COUPON_CHANGED)
        await wait_for_subscribers(member.id)
        await redeem(client, other, reward_id)
        mine = (await redeem(client, token, reward_id))["coupon"]
        received = await next_payload(ws)

    assert received["couponChanged"]["code"] == mine["code"]
