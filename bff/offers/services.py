"""Offers: who may see which, creating them for the stores, and activating them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from bff import outbox
from bff.db.paging import cursor_position, keyset_page, past
from bff.db.sql import IS_NULL, AnyOf, Where, select_where
from bff.errors import DomainError, ErrorCode
from bff.identity.models import Member, ProgramStatus
from bff.offers.models import Offer, OfferActivation, OfferKind
from bff.outbox import MessageKind

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


def in_window(now: datetime) -> Where:
    """An offer between its `validFrom` and `validUntil` at `now`."""
    return Where.of("valid_from", "<=", now) & Where.of("valid_until", ">", now)


def visibility(
    *, viewer: Viewer, now: datetime, public_only: bool = False
) -> tuple[Where | AnyOf, ...]:
    """The conditions an offer `viewer` may see meets: inside its window, and public, exclusive
    while enrolled, or targeted at the viewer (exclusive targeted ones also need enrolment); an
    offer with a minimum tier only for members holding it or a higher one. Read as a queryset by
    `visible_offers`, as SQL by `offers_page`."""
    window = in_window(now)
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
    single_use: bool = True,
) -> Offer:
    """A public, exclusive or (with `member_email`) targeted offer, optionally only for a tier
    and up (a tier code), used once per member at the till unless not `single_use`.
    MEMBER_NOT_FOUND."""
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
    async with in_transaction():
        offer = await Offer.create(
            title=title,
            description=description,
            discount_percent=discount_percent,
            valid_from=valid_from,
            valid_until=valid_until,
            exclusive=exclusive,
            member_id=member_id,
            minimum_tier=minimum_tier,
            single_use=single_use,
        )
        if member_id is not None:
            await outbox.enqueue(
                member_id=member_id,
                kind=MessageKind.PERSONAL_OFFER,
                params={"offerId": offer.id, "title": title[:200]},
            )
    return offer


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


async def use_offers(
    *,
    member: Member | None,
    offer_ids: Sequence[int],
    tiers: frozenset[str] = frozenset(),
    at: datetime,
) -> list[Offer]:
    """Record a till's use of each offer for the card's `member` (holding `tiers`, see
    `Viewer`) at the purchase's time `at`: the offer must be visible to them then, activated
    (not lapsed), and unused unless it is not single-use. OFFER_NOT_AVAILABLE saying why, for
    the first that fails.

    Call inside the purchase's transaction: a refusal rolls the whole purchase back. A
    single-use offer is taken by a conditional update, so two tills never both use it.
    """
    if not offer_ids:
        return []
    if member is None:
        raise DomainError(
            ErrorCode.OFFER_NOT_AVAILABLE,
            "This card is not linked to a member, so no offer applies.",
            field="offerIds",
        )
    viewer = Viewer.of(member, tiers=tiers)
    visible = visible_offers(viewer=viewer, now=at).filter(id__in=offer_ids)
    offers = {offer.id: offer for offer in await visible}
    activations = {
        activation.offer_id: activation
        for activation in await OfferActivation.filter(
            member_id=member.id, offer_id__in=offer_ids, lapsed_at__isnull=True
        )
    }
    for index, offer_id in enumerate(offer_ids):
        offer = offers.get(offer_id)
        activation = activations.get(offer_id)
        if offer is None:
            reason = await _why_not_visible(offer_id, at=at)
        elif activation is None:
            reason = "The member has not activated this offer."
        elif offer.single_use and not await _take_single_use(activation, at=at):
            reason = "The member has already used this offer."
        else:
            if not offer.single_use:
                await OfferActivation.filter(
                    Q(used_at__isnull=True) | Q(used_at__lt=at), id=activation.id
                ).update(used_at=at)
            continue
        raise DomainError(ErrorCode.OFFER_NOT_AVAILABLE, reason, field=f"offerIds.{index}")
    return [offers[offer_id] for offer_id in offer_ids]


async def _take_single_use(activation: OfferActivation, *, at: datetime) -> bool:
    """Mark an unused activation used; False when it was used already (by another till too)."""
    updated = await OfferActivation.filter(id=activation.id, used_at__isnull=True).update(
        used_at=at
    )
    return bool(updated)


async def _why_not_visible(offer_id: int, *, at: datetime) -> str:
    if not await Offer.filter(id=offer_id).exists():
        return "No offer has this id."
    if not await Offer.filter(in_window(at).q(), id=offer_id).exists():
        return "This offer is not valid at the purchase's time."
    return "This offer is not for this card's member."


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
    activated = OfferActivation.filter(member_id=member.id, lapsed_at__isnull=True).filter(
        Q(used_at__isnull=True) | Q(offer__single_use=False)  # used up at a till: not any more
    )
    visible = visible_offers(viewer=Viewer.of(member), now=now)
    return await visible.filter(
        id__in=Subquery(activated.values_list("offer_id", flat=True))
    ).order_by("valid_until", "id")


async def offer_use_times(*, member_id: int, offer_ids: list[int]) -> dict[int, datetime]:
    """When a till last applied each of these offers for the member (offers never used are
    left out)."""
    rows = await OfferActivation.filter(
        member_id=member_id, offer_id__in=offer_ids, used_at__isnull=False
    ).values_list("offer_id", "used_at")
    return dict(rows)


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
