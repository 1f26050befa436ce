"""Offers: who may see which, creating them for the stores, and activating them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from bff.db.paging import cursor_position, keyset_page, past
from bff.db.sql import IS_NULL, AnyOf, Where, select_where
from bff.errors import DomainError, ErrorCode
from bff.identity.models import Member, ProgramStatus
from bff.offers.models import Offer, OfferActivation, OfferKind

NOT_AVAILABLE = "This offer is not available to you now."


@dataclass(frozen=True)
class Viewer:
    """Who looks at offers: nobody (anonymous), or a member, whether they are enrolled and the
    minimum tiers their tier satisfies (tier codes: the caller evaluates the tier, offers do
    not import loyalty)."""

    member_id: int | None = None
    enrolled: bool = False
    tiers: frozenset[str] = frozenset()

    @classmethod
    def of(cls, member: Member | None, *, tiers: frozenset[str] = frozenset()) -> Viewer:
        if member is None:
            return cls()
        enrolled = member.program_status is ProgramStatus.ENROLLED
        return cls(member_id=member.id, enrolled=enrolled, tiers=tiers if enrolled else frozenset())


@dataclass(frozen=True)
class OfferFilter:
    """What a member narrows their offers to: a kind, and activated or not (None: either)."""

    kind: OfferKind | None = None
    activated: bool | None = None


def visibility(
    *, viewer: Viewer, now: datetime, public_only: bool = False
) -> tuple[Where | AnyOf, ...]:
    """The conditions an offer `viewer` may see meets: inside its window, and public, exclusive
    while enrolled, or targeted at the viewer (exclusive targeted ones also need enrolment); an
    offer with a minimum tier only for members holding it or a higher one. Read as a queryset by
    `visible_offers`, as SQL by `offers_page`."""
    window = Where.of("valid_from", "<=", now) & Where.of("valid_until", ">", now)
    untiered = Where.of("minimum_tier", IS_NULL)
    if viewer.member_id is None or public_only:
        public = Where.of("exclusive", "=", value=False) & Where.of("member_id", IS_NULL)
        return (window & public & untiered,)
    if not viewer.enrolled:
        window &= Where.of("exclusive", "=", value=False)
    audience = AnyOf((Where.of("member_id", IS_NULL), Where.of("member_id", "=", viewer.member_id)))
    if not viewer.tiers:
        return (window & untiered, audience)
    tiers = AnyOf((untiered, Where.of("minimum_tier", "IN", sorted(viewer.tiers))))
    return (window, audience, tiers)


def visible_offers(*, viewer: Viewer, now: datetime, public_only: bool = False) -> QuerySet[Offer]:
    """The offers `viewer` may see now (`visibility`), as a queryset."""
    conditions = visibility(viewer=viewer, now=now, public_only=public_only)
    return Offer.filter(*(condition.q() for condition in conditions))


def _narrowed(queryset: QuerySet[Offer], *, viewer: Viewer, narrow: OfferFilter) -> QuerySet[Offer]:
    if narrow.kind is OfferKind.PERSONAL:
        queryset = queryset.filter(member_id__isnull=False)
    elif narrow.kind is not None:
        exclusive = narrow.kind is OfferKind.EXCLUSIVE
        queryset = queryset.filter(member_id__isnull=True, exclusive=exclusive)
    if narrow.activated is not None and viewer.member_id is not None:
        live = OfferActivation.filter(member_id=viewer.member_id, lapsed_at__isnull=True)
        ids = Subquery(live.values("offer_id"))
        queryset = queryset.filter(id__in=ids) if narrow.activated else queryset.exclude(id__in=ids)
    return queryset


async def offers_page(
    *,
    viewer: Viewer,
    first: int,
    after: tuple[str, int] | None,
    now: datetime,
    public_only: bool = False,
    narrow: OfferFilter | None = None,
) -> list[Offer]:
    """Soonest-ending first, keyset by (validUntil, id): `first + 1` rows (the extra one only
    says whether there is a next page). Without a narrowing filter (the screens' case) one
    hand-written statement; with one, the queryset."""
    if narrow is not None and (narrow.kind is not None or narrow.activated is not None):
        queryset = _narrowed(
            visible_offers(viewer=viewer, now=now, public_only=public_only),
            viewer=viewer,
            narrow=narrow,
        )
        return await keyset_page(
            queryset, field="valid_until", after=after, first=first, descending=False
        )
    order_by = (("valid_until", False), ("id", False))
    conditions = visibility(viewer=viewer, now=now, public_only=public_only)
    if after is not None:
        conditions = (*conditions, past(cursor_position(after), order_by))
    return await select_where(Offer, conditions=conditions, order_by=order_by, limit=first + 1)


async def create_offer(
    *,
    title: str,
    description: str,
    discount_percent: int | None,
    valid_from: datetime,
    valid_until: datetime,
    exclusive: bool,
    member_email: str | None,
    minimum_tier: str | None = None,
) -> Offer:
    """A public, exclusive or (with `member_email`) targeted offer, optionally only for a tier
    and up (a tier code). MEMBER_NOT_FOUND."""
    if valid_until <= valid_from:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "validUntil must be after validFrom.", field="validUntil"
        )
    member_id: int | None = None
    if member_email is not None:
        member = await Member.filter(email__iexact=member_email.strip()).first()
        if member is None:
            raise DomainError(
                ErrorCode.MEMBER_NOT_FOUND, "No member has this email.", field="memberEmail"
            )
        member_id = member.id
    return await Offer.create(
        title=title,
        description=description,
        discount_percent=discount_percent,
        valid_from=valid_from,
        valid_until=valid_until,
        exclusive=exclusive,
        member_id=member_id,
        minimum_tier=minimum_tier,
    )


async def activate_offer(
    *,
    member: Member,
    offer_id: int,
    tiers: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> Offer:
    """Activate an offer the member can see now (holding `tiers`, see `Viewer`), once.
    OFFER_NOT_AVAILABLE otherwise."""
    now = now or datetime.now(UTC)
    async with in_transaction():
        # Under the member row lock, like opting out: an exclusive activation is never written
        # after an opt-out lapsed the member's activations, and the status checked is current.
        current = await Member.select_for_update().get(id=member.id)
        visible = visible_offers(viewer=Viewer.of(current, tiers=tiers), now=now)
        offer = await visible.filter(id=offer_id).first()
        if offer is None:
            raise DomainError(ErrorCode.OFFER_NOT_AVAILABLE, NOT_AVAILABLE, field="offerId")
        # Activated before: an activation that lapsed on opting out comes back, others stay.
        revived = await OfferActivation.filter(
            offer_id=offer.id, member_id=member.id, lapsed_at__isnull=False
        ).update(lapsed_at=None, activated_at=now)
        if not revived:
            await OfferActivation.bulk_create(
                [OfferActivation(offer_id=offer.id, member_id=member.id, activated_at=now)],
                ignore_conflicts=True,
            )
    return offer


async def activated_offer_ids(*, member_id: int, offer_ids: list[int]) -> set[int]:
    """Which of the offers the member has a live activation of (one hand-written statement)."""
    if not offer_ids:
        return set()
    live = (
        Where.of("member_id", "=", member_id)
        & Where.of("offer_id", "IN", offer_ids)
        & Where.of("lapsed_at", IS_NULL)
    )
    return {row.offer_id for row in await select_where(OfferActivation, conditions=(live,))}


async def activated_offers(*, member: Member, now: datetime) -> list[Offer]:
    """The offers the member has activated and may still see now, soonest-ending first: what a
    till can apply for them."""
    activated = OfferActivation.filter(member_id=member.id, lapsed_at__isnull=True)
    visible = visible_offers(viewer=Viewer.of(member), now=now)
    return await visible.filter(
        id__in=Subquery(activated.values_list("offer_id", flat=True))
    ).order_by("valid_until", "id")


async def lapse_exclusive_activations(*, member_id: int, now: datetime) -> None:
    """Exclusive offers are for program members: opting out lapses their activations."""
    exclusive = Offer.filter(exclusive=True).values_list("id", flat=True)
    await OfferActivation.filter(
        member_id=member_id, lapsed_at__isnull=True, offer_id__in=Subquery(exclusive)
    ).update(lapsed_at=now)


async def erase_member(*, member_id: int) -> None:
    """Closing an account, offers' part: the member's activations and the offers targeted at
    them go (public and exclusive offers stay for everyone else)."""
    await OfferActivation.filter(member_id=member_id).delete()
    await Offer.filter(member_id=member_id).delete()
