"""The root `Subscription` type: live updates of the signed-in member's points, cards and tier."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from bff.events import EventKind
from bff.graphql.context import Info
from bff.graphql.loyalty.loaders import (
    CardByIdLoader,
    PointsBalanceByMemberIdLoader,
    TierByMemberIdLoader,
)
from bff.graphql.loyalty.program import TierStatus
from bff.graphql.loyalty.types import Card, PointsBalance
from bff.graphql.messages.loaders import NotificationByIdLoader
from bff.graphql.messages.types import Notification
from bff.graphql.permissions import IsMember
from bff.graphql.realtime.streams import member_events
from bff.graphql.rewards.loaders import CouponByIdLoader
from bff.graphql.rewards.types import Coupon


async def _balance(info: Info, member_id: int) -> PointsBalance:
    balance = await info.context.loader(PointsBalanceByMemberIdLoader).load(member_id)
    return PointsBalance.from_balance(balance)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "The signed-in member's balance: the current one at once, then the new one after "
            "every purchase, redemption, expiry, opt-out or card link. Authenticate the "
            "websocket with the session cookie or connection_init "
            '{"authorization": "Bearer <token>"}.'
        ),
        permission_classes=[IsMember],
    )
    async def points_balance_changed(self, info: Info) -> AsyncGenerator[PointsBalance, None]:
        member = info.context.signed_in_member
        stream = member_events(info.context, EventKind.POINTS_BALANCE_CHANGED, announce=True)
        async with aclosing(stream):
            async for _ in stream:
                yield await _balance(info, member.id)

    @strawberry.subscription(
        description="One of the signed-in member's cards after it was activated or deactivated.",
        permission_classes=[IsMember],
    )
    async def card_status_changed(self, info: Info) -> AsyncGenerator[Card, None]:
        member = info.context.signed_in_member
        stream = member_events(info.context, EventKind.CARD_STATUS_CHANGED)
        async with aclosing(stream):
            async for event in stream:
                if event is None or event.card_id is None:
                    continue
                card = await info.context.loader(CardByIdLoader).load(event.card_id)
                # Unlinked (or linked elsewhere) since the event: not this member's card anymore.
                if card is not None and card.member_id == member.id:
                    yield Card.from_model(card)

    @strawberry.subscription(
        description=(
            "The signed-in member's tier status after every change of their tier (a rise, a "
            "drop when the window moves, a reset on opting out)."
        ),
        permission_classes=[IsMember],
    )
    async def tier_changed(self, info: Info) -> AsyncGenerator[TierStatus, None]:
        member = info.context.signed_in_member
        stream = member_events(info.context, EventKind.TIER_CHANGED)
        async with aclosing(stream):
            async for event in stream:
                if event is None:
                    continue
                status = await info.context.loader(TierByMemberIdLoader).load(member.id)
                yield TierStatus.from_status(status)

    @strawberry.subscription(
        description="One of the signed-in member's coupons after it was issued, used or cancelled.",
        permission_classes=[IsMember],
    )
    async def coupon_changed(self, info: Info) -> AsyncGenerator[Coupon, None]:
        member = info.context.signed_in_member
        stream = member_events(info.context, EventKind.COUPON_CHANGED)
        async with aclosing(stream):
            async for event in stream:
                if event is None or event.coupon_id is None:
                    continue
                coupon = await info.context.loader(CouponByIdLoader).load(event.coupon_id)
                if coupon is not None and coupon.member_id == member.id:
                    yield Coupon.from_model(coupon)

    @strawberry.subscription(
        description="Each new notice in the signed-in member's bell.",
        permission_classes=[IsMember],
    )
    async def notification_received(self, info: Info) -> AsyncGenerator[Notification, None]:
        member = info.context.signed_in_member
        stream = member_events(info.context, EventKind.NOTIFICATION_RECEIVED)
        async with aclosing(stream):
            async for event in stream:
                if event is None or event.notification_id is None:
                    continue
                row = await info.context.loader(NotificationByIdLoader).load(event.notification_id)
                if row is not None and row.member_id == member.id:
                    yield Notification.from_model(row)
