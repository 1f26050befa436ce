"""tierChanged over a real websocket: a member hears their own tier change, and only theirs."""

from __future__ import annotations

from tests.factories import signed_in_member
from tests.loyalty.store import buy
from tests.realtime.test_subscriptions import linked_card, next_payload, wait_for_subscribers
from tests.realtime.wsclient import signed_in_ws

TIER = """
subscription {
  tierChanged { tier { code } windowSpend nextTier { code } spendToNextTier }
}
"""


async def test_a_subscriber_hears_its_tier_rise_and_nothing_of_another_members(
    client, settings, live_url
):
    """Another member's rise sends nothing; the member's own purchase reaching Silver sends the
    new status (Silver, Gold next)."""
    member, token = await signed_in_member()
    other, _ = await signed_in_member()
    mine, _ = await linked_card(client, settings, member)
    theirs, _ = await linked_card(client, settings, other)

    async with signed_in_ws(live_url, token) as ws:
        await ws.subscribe("1", TIER)
        await wait_for_subscribers(member.id)
        await buy(client, theirs, "150000.00")
        await buy(client, mine, "1000.00")
        await buy(client, mine, "149000.00")
        changed = await next_payload(ws)

    assert changed == {
        "tierChanged": {
            "tier": {"code": "SILVER"},
            "windowSpend": "150000.00",
            "nextTier": {"code": "GOLD"},
            "spendToNextTier": "350000.00",
        }
    }
