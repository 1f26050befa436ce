"""`redeemReward` and `cancelCoupon`."""

from __future__ import annotations

import strawberry

from bff.errors import DomainError, ErrorCode
from bff.graphql.context import Info
from bff.graphql.errors import returns_user_errors
from bff.graphql.permissions import IsMember
from bff.graphql.rewards.types import Coupon, CouponPayload
from bff.ids import from_global_id
from bff.loyalty.rewards import NOT_AVAILABLE, cancel_coupon, redeem_reward


@strawberry.input
class RedeemRewardInput:
    reward_id: strawberry.ID
    idempotency_key: str = strawberry.field(
        description=(
            "Chosen by the client per purchase attempt; a retry with the same key returns the "
            "same coupon."
        )
    )


@strawberry.input
class CouponIdInput:
    coupon_id: strawberry.ID


def _pk(global_id: str, type_name: str, error: DomainError) -> int:
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] != type_name:
        raise error
    return decoded[1]


def _idempotency_key(key: str) -> str:
    if not 1 <= len(key) <= 100 or not key.isprintable():  # noqa: PLR2004 (the column's size)
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Use 1 to 100 printable characters.",
            field="idempotencyKey",
        )
    return key


@strawberry.type
class RewardsMutation:
    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(CouponPayload)
    async def redeem_reward(self, info: Info, input: RedeemRewardInput) -> CouponPayload:  # noqa: A002 (contract)
        not_available = DomainError(ErrorCode.REWARD_NOT_AVAILABLE, NOT_AVAILABLE, field="rewardId")
        coupon = await redeem_reward(
            member_id=info.context.signed_in_member.id,
            reward_id=_pk(input.reward_id, "Reward", not_available),
            idempotency_key=_idempotency_key(input.idempotency_key),
            settings=info.context.settings,
        )
        return CouponPayload(coupon=Coupon.from_model(coupon))

    @strawberry.mutation(
        description="Before use only; the points come back with their original expiry.",
        permission_classes=[IsMember],
    )
    @returns_user_errors(CouponPayload)
    async def cancel_coupon(self, info: Info, input: CouponIdInput) -> CouponPayload:  # noqa: A002 (contract)
        not_found = DomainError(ErrorCode.NOT_FOUND, "No such coupon.", field="couponId")
        coupon = await cancel_coupon(
            member_id=info.context.signed_in_member.id,
            coupon_id=_pk(input.coupon_id, "Coupon", not_found),
        )
        return CouponPayload(coupon=Coupon.from_model(coupon))
