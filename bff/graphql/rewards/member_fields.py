"""Resolver of `Member.coupons`, declared on `Member` in graphql/identity/types.py."""

from __future__ import annotations

from bff.graphql.context import Info
from bff.graphql.relay import Connection, HasPk
from bff.graphql.rewards.types import Coupon, CouponStatus, wallet_connection


async def coupons(
    root: HasPk,
    info: Info,
    first: int | None = 20,
    after: str | None = None,
    status: CouponStatus | None = None,
) -> Connection[Coupon]:
    return await wallet_connection(info, member_id=root.pk, status=status, first=first, after=after)
