"""GraphQL types of the program (Metropolia): its rules, its tiers and a member's tier status;
`Query.program` and `Member.tier`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Self

import strawberry

from bff.graphql.context import Info
from bff.graphql.loyalty.loaders import TierByMemberIdLoader

# The GraphQL enum decorates the domain's class in place: annotations name the class.
from bff.graphql.loyalty.types import TierCode as _GraphQLTierCode  # noqa: F401 (registers it)
from bff.graphql.relay import HasPk
from bff.identity.models import ProgramStatus
from bff.loyalty import tiers
from bff.loyalty.tiers import TierCode
from bff.settings import Settings


@strawberry.type
class Tier:
    code: TierCode
    name: str
    threshold: Decimal = strawberry.field(
        description="Spend within the qualification window that earns this tier."
    )
    points_multiplier: Decimal = strawberry.field(
        description='Applied when a purchase earns points, e.g. "1.25".'
    )
    benefits: list[str]

    @classmethod
    def from_rule(cls, tier: tiers.Tier) -> Self:
        return cls(
            code=tier.code,
            name=tier.name,
            threshold=tier.threshold,
            points_multiplier=tier.multiplier,
            benefits=list(tier.benefits),
        )


@strawberry.type
class Program:
    name: str = strawberry.field(description="The program's name, e.g. Metropolia.")
    terms_version: str
    currency_units_per_point: Decimal = strawberry.field(
        description='Currency units per point earned, e.g. "10".'
    )
    pending_days: int
    expiry_days: int
    tiers: list[Tier] = strawberry.field(description="Lowest first.")

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            name=settings.program_name,
            terms_version=settings.terms_version,
            currency_units_per_point=settings.currency_units_per_point,
            pending_days=settings.points_return_window.days,
            expiry_days=settings.points_lifetime.days,
            tiers=[Tier.from_rule(tier) for tier in tiers.program_tiers(settings)],
        )


@strawberry.type
class TierStatus:
    tier: Tier
    since: datetime
    window_starts_at: datetime
    window_ends_at: datetime
    window_spend: Decimal = strawberry.field(
        description="Spend counted in the current qualification window (returns deducted)."
    )
    next_tier: Tier | None = strawberry.field(description="The next tier up; null at the top.")
    spend_to_next_tier: Decimal | None = strawberry.field(
        description="Spend still needed for nextTier; null at the top."
    )
    lapses_at: datetime | None = strawberry.field(
        description="When the tier drops unless the spend keeps it; null when it is kept."
    )

    @classmethod
    def from_status(cls, status: tiers.TierStatus) -> Self:
        return cls(
            tier=Tier.from_rule(status.tier),
            since=status.since,
            window_starts_at=status.window_starts_at,
            window_ends_at=status.window_ends_at,
            window_spend=status.window_spend,
            next_tier=Tier.from_rule(status.next_tier) if status.next_tier else None,
            spend_to_next_tier=status.spend_to_next_tier,
            lapses_at=status.lapses_at,
        )


@strawberry.type
class ProgramQuery:
    @strawberry.field(
        description=(
            "The loyalty program's rules, so clients render them instead of hard-coding them. "
            "No session needed."
        )
    )
    def program(self, info: Info) -> Program:
        return Program.from_settings(info.context.settings)


async def member_tier(root: HasPk, info: Info) -> TierStatus | None:
    """The member's tier, evaluated once per request (every field of one read agrees)."""
    member = await info.context.member()
    if (
        member is None
        or member.id != root.pk
        or member.program_status is not ProgramStatus.ENROLLED
    ):
        return None
    status = await info.context.loader(TierByMemberIdLoader).load(root.pk)
    return TierStatus.from_status(status)
