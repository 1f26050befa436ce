"""The root `Subscription` type: live updates of the signed-in member's points, cards and tier."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Protocol, TypeVar

import strawberry

from bff.events import Event, EventKind
from bff.graphql.context import Info
from bff.graphql.loaders import Loader
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


class _Owned(Protocol):
    @property
    def member_id(self) -> int | None: ...


R = TypeVar("R", bound=_Owned)


async def _still_the_members(
    info: Info,
    kind: EventKind,
    key_of: Callable[[Event], int | None],
    loader: type[Loader[int, R | None]],
) -> AsyncGenerator[R, None]:
    """The row each event of `kind` names, read now through its loader, when it is still the
    signed-in member's: a card unlinked (or linked elsewhere) since the event, or a coupon or
    notice no longer theirs, is skipped."""
    member = info.context.signed_in_member
    stream = member_events(info.context, kind)
    async with aclosing(stream):
        async for event in stream:
            key = None if event is None else key_of(event)
            if key is None:
                continue
            row = await info.context.loader(loader).load(key)
            if row is not None and row.member_id == member.id:
                yield row


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
        cards = _still_the_members(
            info, EventKind.CARD_STATUS_CHANGED, lambda event: event.card_id, CardByIdLoader
        )
        async with aclosing(cards):
            async for card in cards:
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
        coupons = _still_the_members(
            info, EventKind.COUPON_CHANGED, lambda event: event.coupon_id, CouponByIdLoader
        )
        async with aclosing(coupons):
            async for coupon in coupons:
                yield Coupon.from_model(coupon)

    @strawberry.subscription(
        description="Each new notice in the signed-in member's bell.",
        permission_classes=[IsMember],
    )
    async def notification_received(self, info: Info) -> AsyncGenerator[Notification, None]:
        notices = _still_the_members(
            info,
            EventKind.NOTIFICATION_RECEIVED,
            lambda event: event.notification_id,
            NotificationByIdLoader,
        )
        async with aclosing(notices):
            async for notice in notices:
                yield Notification.from_model(notice)
