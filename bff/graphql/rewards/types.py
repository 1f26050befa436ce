"""GraphQL types of rewards and coupons."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Self

import strawberry

from bff.graphql.context import Info
from bff.graphql.errors import UnauthenticatedError, UserError
from bff.graphql.loyalty.types import TierCode
from bff.graphql.node import register_node
from bff.graphql.relay import Connection, Node, build_connection, make_page, node_id
from bff.graphql.rewards.loaders import (
    BuyerByMemberLoader,
    CouponByIdLoader,
    RewardByIdLoader,
    RewardsPageByKeyLoader,
    RewardsPageKey,
    WalletPageByKeyLoader,
    WalletPageKey,
)
from bff.loyalty import models
from bff.loyalty.rewards import coupon_status, reward_problem


@strawberry.enum
class CouponStatus(Enum):
    ACTIVE = "ACTIVE"
    USED = "USED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


@strawberry.type
class Reward(Node):
    row: strawberry.Private[models.Reward]
    id: strawberry.ID
    title: str
    description: str
    cost: int = strawberry.field(description="Points it costs.")
    remaining: int | None = strawberry.field(description="Items left; null when unlimited.")
    valid_until: datetime | None
    minimum_tier: TierCode | None  # type: ignore[valid-type]
    coupon_valid_days: int = strawberry.field(description="Days a coupon for it stays valid.")

    @classmethod
    def from_model(cls, reward: models.Reward) -> Self:
        return cls(
            row=reward,
            id=node_id("Reward", reward.id),
            title=reward.title,
            description=reward.description,
            cost=reward.cost,
            remaining=reward.stock,
            valid_until=reward.valid_until,
            minimum_tier=reward.minimum_tier,
            coupon_valid_days=reward.coupon_valid_days,
        )

    @strawberry.field(
        description=(
            "Whether the caller can buy it now (enrolled, tier, points, stock); "
            "false for anonymous callers."
        )
    )
    async def redeemable(self, info: Info) -> bool:
        member = await info.context.member()
        if member is None:
            return False
        buyer = await info.context.loader(BuyerByMemberLoader).load(member)
        return reward_problem(self.row, buyer=buyer, now=datetime.now(UTC)) is None


@strawberry.type
class Coupon(Node):
    pk: strawberry.Private[int]
    reward_pk: strawberry.Private[int]
    id: strawberry.ID
    code: str = strawberry.field(description="What the member shows at the till; unguessable.")
    barcode: str = strawberry.field(description="The payload a till scans (Code 128).")
    status: CouponStatus
    points_spent: int
    issued_at: datetime
    valid_until: datetime
    used_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def from_model(cls, coupon: models.Coupon) -> Self:
        return cls(
            pk=coupon.id,
            reward_pk=coupon.reward_id,
            id=node_id("Coupon", coupon.id),
            code=coupon.code,
            # The code itself: Code 128 carries it as it is, and tills send it back as couponCodes.
            barcode=coupon.code,
            status=CouponStatus(coupon_status(coupon, now=datetime.now(UTC))),
            points_spent=coupon.points_spent,
            issued_at=coupon.issued_at,
            valid_until=coupon.valid_until,
            used_at=coupon.used_at,
            cancelled_at=coupon.cancelled_at,
        )

    @strawberry.field
    async def reward(self, info: Info) -> Reward:
        reward = await info.context.loader(RewardByIdLoader).load(self.reward_pk)
        if reward is None:  # a coupon's reward is never deleted (RESTRICT)
            raise LookupError(self.reward_pk)
        return Reward.from_model(reward)


@strawberry.type
class CouponPayload:
    coupon: Coupon | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def rewards_connection(
    info: Info, *, affordable: bool, first: int | None, after: str | None
) -> Connection[Reward]:
    """The catalogue cheapest first; `affordable` keeps what the signed-in member can buy."""
    page = make_page(first, after, max_page_size=info.context.settings.max_page_size)
    buyer = None
    if affordable:
        member = await info.context.member()
        if member is None:
            raise UnauthenticatedError
        buyer = await info.context.loader(BuyerByMemberLoader).load(member)
    key = RewardsPageKey(first=page.first, after=page.after, buyer=buyer)
    rows = await info.context.loader(RewardsPageByKeyLoader).load(key)
    return build_connection(
        [Reward.from_model(row) for row in rows],
        [(row.cost, row.id) for row in rows],
        page=page,
    )


async def wallet_connection(
    info: Info, *, member_id: int, status: CouponStatus | None, first: int | None, after: str | None
) -> Connection[Coupon]:
    page = make_page(first, after, max_page_size=info.context.settings.max_page_size)
    key = WalletPageKey(
        member_id=member_id,
        status=None if status is None else status.value,
        first=page.first,
        after=page.after,
    )
    rows = await info.context.loader(WalletPageByKeyLoader).load(key)
    return build_connection(
        [Coupon.from_model(row) for row in rows],
        [(row.issued_at, row.id) for row in rows],
        page=page,
    )


async def reward_node(info: Info, pk: int) -> Reward | None:
    reward = await info.context.loader(RewardByIdLoader).load(pk)
    return Reward.from_model(reward) if reward else None


async def coupon_node(info: Info, pk: int) -> Coupon | None:
    member = await info.context.member()
    coupon = await info.context.loader(CouponByIdLoader).load(pk)
    if member is None or coupon is None or coupon.member_id != member.id:
        return None
    return Coupon.from_model(coupon)


register_node("Reward", reward_node)
register_node("Coupon", coupon_node)
