"""Loaders of rewards and coupons: pages, by id, and what decides whether a member can buy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bff.db.sql import select_models
from bff.graphql.loaders import Loader
from bff.identity.models import Member
from bff.loyalty.ledger import read_balances
from bff.loyalty.models import Coupon, Reward
from bff.loyalty.rewards import Buyer, buyer_of, member_tiers, rewards_page, wallet_page


class RewardByIdLoader(Loader[int, Reward | None]):
    async def batch_load_fn(self, keys: list[int]) -> list[Reward | None]:
        rewards = {row.id: row for row in await select_models(Reward, column_in=("id", keys))}
        return [rewards.get(key) for key in keys]


class CouponByIdLoader(Loader[int, Coupon | None]):
    async def batch_load_fn(self, keys: list[int]) -> list[Coupon | None]:
        coupons = {row.id: row for row in await select_models(Coupon, column_in=("id", keys))}
        return [coupons.get(key) for key in keys]


class BuyerByMemberLoader(Loader[Member, Buyer]):
    """Whether each member is enrolled, their tier and available points: one balance statement
    and one tier statement for all of them. Keyed by the request's member row (Tortoise rows
    hash by their key)."""

    async def batch_load_fn(self, keys: list[Member]) -> list[Buyer]:
        now = datetime.now(UTC)
        member_ids = [member.id for member in keys]
        balances = await read_balances(
            member_ids=member_ids, now=now, expiring_soon=self.settings.points_expiring_soon
        )
        tiers = await member_tiers(member_ids=member_ids, now=now, settings=self.settings)
        return [
            buyer_of(member, available=balances[member.id].available, tier=tiers[member.id])
            for member in keys
        ]


@dataclass(frozen=True)
class RewardsPageKey:
    """One page of the catalogue; with `buyer`, only the rewards that buyer can buy now."""

    first: int
    after: tuple[str, int] | None
    buyer: Buyer | None


class RewardsPageByKeyLoader(Loader[RewardsPageKey, list[Reward]]):
    async def batch_load_fn(self, keys: list[RewardsPageKey]) -> list[list[Reward]]:
        now = datetime.now(UTC)
        return [
            await rewards_page(first=key.first, after=key.after, now=now, buyer=key.buyer)
            for key in keys
        ]


@dataclass(frozen=True)
class WalletPageKey:
    """One page of a member's coupons, of one status or all, newest first."""

    member_id: int
    status: str | None
    first: int
    after: tuple[str, int] | None


class WalletPageByKeyLoader(Loader[WalletPageKey, list[Coupon]]):
    async def batch_load_fn(self, keys: list[WalletPageKey]) -> list[list[Coupon]]:
        now = datetime.now(UTC)
        return [
            await wallet_page(
                member_id=key.member_id,
                status=key.status,
                first=key.first,
                after=key.after,
                now=now,
            )
            for key in keys
        ]
