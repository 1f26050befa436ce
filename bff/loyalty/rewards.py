"""Rewards bought with points, and the coupons they become: publishing, buying (once per
idempotency key, never past the stock), the wallet, cancelling, and using a coupon at the till."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet

from bff import events, outbox
from bff.db.paging import keyset_page
from bff.errors import DomainError, ErrorCode
from bff.identity.models import Member, ProgramStatus
from bff.loyalty import ledger, tiers
from bff.loyalty.models import Card, CardStatus, Coupon, CouponStatus, PointsEntry, Purchase, Reward
from bff.loyalty.tiers import TierCode
from bff.offers.models import Offer
from bff.offers.services import activated_offers
from bff.outbox import MessageKind
from bff.settings import Settings

# Digits and capitals without the look-alikes 0/O, 1/I/L: 31 symbols, about 4.95 bits each.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
NOT_AVAILABLE = "This reward cannot be bought now."
COUPON_NOT_ACTIVE = "This coupon is used, expired, cancelled or not this card's."


async def member_tiers(
    *, member_ids: list[int], now: datetime, settings: Settings
) -> dict[int, TierCode]:
    """The members' tiers as of `now` (see bff.loyalty.tiers): the one place rewards ask."""
    statuses = await tiers.read_tiers(member_ids=member_ids, now=now, settings=settings)
    return {member_id: status.tier.code for member_id, status in statuses.items()}


def new_coupon_code() -> str:
    """An unguessable code (about 59 random bits) that people read and type without mistakes."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def coupon_status(coupon: Coupon, *, now: datetime) -> str:
    """ACTIVE, USED, CANCELLED as stored, or EXPIRED for an ACTIVE one past its validity."""
    if coupon.status is CouponStatus.ACTIVE and coupon.valid_until <= now:
        return "EXPIRED"
    return coupon.status.value


def usable(now: datetime) -> Q:
    """Coupons that can be used now: ACTIVE and inside their validity."""
    return Q(status=CouponStatus.ACTIVE, valid_until__gt=now)


@dataclass(frozen=True)
class Buyer:
    """What decides whether a member can buy a reward now."""

    enrolled: bool
    tier: TierCode
    available: int


def reward_problem(reward: Reward, *, buyer: Buyer, now: datetime) -> DomainError | None:
    """Why `buyer` cannot buy `reward` now, or None: the one rule for redeeming, `redeemable`
    and the affordable filter."""
    if not buyer.enrolled:
        return DomainError(
            ErrorCode.NOT_ENROLLED, "Join the program to buy rewards.", field="rewardId"
        )
    offered = reward.valid_until is None or reward.valid_until > now
    tier_ok = buyer.tier.reaches(reward.minimum_tier)
    if not offered or not tier_ok:
        return DomainError(ErrorCode.REWARD_NOT_AVAILABLE, NOT_AVAILABLE, field="rewardId")
    if reward.stock is not None and reward.stock <= 0:
        return _sold_out()
    if buyer.available < reward.cost:
        return DomainError(
            ErrorCode.INSUFFICIENT_POINTS, "Not enough available points.", field="rewardId"
        )
    return None


def _sold_out() -> DomainError:
    return DomainError(ErrorCode.OUT_OF_STOCK, "This reward is sold out.", field="rewardId")


def buyer_of(member: Member, *, available: int, tier: TierCode) -> Buyer:
    """The member as a buyer with `available` points and of `tier`."""
    return Buyer(
        enrolled=member.program_status is ProgramStatus.ENROLLED, tier=tier, available=available
    )


async def publish_reward(
    *,
    title: str,
    description: str,
    cost: int,
    stock: int | None,
    valid_until: datetime | None,
    minimum_tier: TierCode | None,
    coupon_valid_days: int,
) -> Reward:
    """A reward in the catalogue, as the store systems send it."""
    return await Reward.create(
        title=title,
        description=description,
        cost=cost,
        stock=stock,
        valid_until=valid_until,
        minimum_tier=minimum_tier,
        coupon_valid_days=coupon_valid_days,
    )


def offered_rewards(now: datetime) -> QuerySet[Reward]:
    """The catalogue: rewards not past their validity (sold-out ones included)."""
    return Reward.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))


async def rewards_page(
    *, first: int, after: tuple[str, int] | None, now: datetime, buyer: Buyer | None = None
) -> list[Reward]:
    """`first + 1` rewards cheapest first, keyset by (cost, id); with `buyer`, only those the
    buyer can buy now. The rule is checked in Python over the rewards the buyer's points cover:
    a catalogue holds tens of rewards, not thousands."""
    queryset = offered_rewards(now)
    if after is not None:
        cost, pk = _cost_position(after)
        queryset = queryset.filter(Q(cost__gt=cost) | Q(cost=cost, id__gt=pk))
    queryset = queryset.order_by("cost", "id")
    if buyer is None:
        return await queryset.limit(first + 1)
    candidates = await queryset.filter(cost__lte=buyer.available)
    buyable = [
        reward for reward in candidates if reward_problem(reward, buyer=buyer, now=now) is None
    ]
    return buyable[: first + 1]


def _cost_position(after: tuple[str, int]) -> tuple[int, int]:
    value, pk = after
    try:
        return int(value), pk
    except ValueError:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "This cursor is not valid.", field="after"
        ) from None


async def redeem_reward(
    *,
    member_id: int,
    reward_id: int,
    idempotency_key: str,
    settings: Settings,
    now: datetime | None = None,
) -> Coupon:
    """Buy the reward: a REDEEM entry naming it (soonest-expiring points first), one item off
    its stock, and a coupon; all or nothing. The same key and reward again return the same
    coupon; the same key with another reward is IDEMPOTENCY_CONFLICT.

    Members racing for the last items: each takes its own member row lock, then the stock is
    taken by one conditional UPDATE (`stock > 0`), which PostgreSQL re-checks after waiting for
    the row, so no more coupons are issued than items; a loser's transaction rolls back whole.
    """
    now = now or datetime.now(UTC)
    owner = ledger.PointsOwner(member_id=member_id)
    async with events.transaction():
        await owner.lock()
        # Under the lock: a retry sent while the first attempt runs waits for it, then sees it.
        earlier = await Coupon.get_or_none(member_id=member_id, idempotency_key=idempotency_key)
        if earlier is not None:
            if earlier.reward_id != reward_id:
                raise DomainError(
                    ErrorCode.IDEMPOTENCY_CONFLICT,
                    "This idempotency key was used for another reward.",
                    field="idempotencyKey",
                )
            return earlier
        member = await Member.get(id=member_id)
        reward = await Reward.get_or_none(id=reward_id)
        if reward is None:
            raise DomainError(ErrorCode.REWARD_NOT_AVAILABLE, NOT_AVAILABLE, field="rewardId")
        await ledger.expire_due(owner=owner, now=now)
        available = (
            await owner.lots().filter(ledger.available(now).q()).values_list("remaining", flat=True)
        )
        tier = (await member_tiers(member_ids=[member_id], now=now, settings=settings))[member_id]
        buyer = buyer_of(member, available=sum(available), tier=tier)  # type: ignore[arg-type]
        if (problem := reward_problem(reward, buyer=buyer, now=now)) is not None:
            raise problem
        entry = await ledger.spend(
            owner=owner, points=reward.cost, now=now, occurred_at=now, reward_id=reward.id
        )
        if reward.stock is not None:
            taken = await Reward.filter(id=reward.id, stock__gt=0).update(stock=F("stock") - 1)
            if not taken:  # another member took the last item since `reward` was read
                raise _sold_out()
        coupon = await Coupon.create(
            code=new_coupon_code(),
            member_id=member_id,
            reward_id=reward.id,
            idempotency_key=idempotency_key,
            redeem_entry_id=entry.id,
            points_spent=reward.cost,
            issued_at=now,
            valid_until=now + timedelta(days=reward.coupon_valid_days),
        )
        events.publish_after_commit(events.points_balance_changed(member_id))
        events.publish_after_commit(events.coupon_changed(member_id=member_id, coupon_id=coupon.id))
        await outbox.enqueue(
            member_id=member_id, kind=MessageKind.COUPON_ISSUED, params={"title": reward.title}
        )
    return coupon


async def cancel_coupon(*, member_id: int, coupon_id: int, now: datetime | None = None) -> Coupon:
    """Cancel an ACTIVE coupon of the member: its points come back to the lots they were taken
    from, with their original expiry (a REFUND entry; points whose expiry has passed expire),
    and its item goes back to the stock. NOT_FOUND for another member's coupon,
    COUPON_NOT_ACTIVE for a used, expired or cancelled one, NOT_ENROLLED outside the program."""
    now = now or datetime.now(UTC)
    owner = ledger.PointsOwner(member_id=member_id)
    async with events.transaction():
        await owner.lock()
        coupon = await Coupon.get_or_none(id=coupon_id, member_id=member_id)
        if coupon is None:
            raise DomainError(ErrorCode.NOT_FOUND, "No such coupon.", field="couponId")
        # Outside the program there is no balance to give points back to.
        if (await Member.get(id=member_id)).program_status is not ProgramStatus.ENROLLED:
            raise DomainError(
                ErrorCode.NOT_ENROLLED, "Join the program to cancel coupons.", field="couponId"
            )
        if coupon_status(coupon, now=now) != CouponStatus.ACTIVE:
            raise DomainError(ErrorCode.COUPON_NOT_ACTIVE, COUPON_NOT_ACTIVE, field="couponId")
        spent = await PointsEntry.get(id=coupon.redeem_entry_id)
        await ledger.refund(owner=owner, spent=spent, now=now)
        await Reward.filter(id=coupon.reward_id, stock__isnull=False).update(stock=F("stock") + 1)
        await Coupon.filter(id=coupon.id).update(status=CouponStatus.CANCELLED, cancelled_at=now)
        events.publish_after_commit(events.points_balance_changed(member_id))
        events.publish_after_commit(events.coupon_changed(member_id=member_id, coupon_id=coupon.id))
    return await Coupon.get(id=coupon.id)


def wallet(*, member_id: int, status: str | None, now: datetime) -> QuerySet[Coupon]:
    """The member's coupons, of one status (ACTIVE, USED, EXPIRED, CANCELLED) or all."""
    mine = Coupon.filter(member_id=member_id)
    if status is None:
        return mine
    if status == "EXPIRED":
        return mine.filter(status=CouponStatus.ACTIVE, valid_until__lte=now)
    if status == CouponStatus.ACTIVE:
        return mine.filter(usable(now))
    return mine.filter(status=CouponStatus(status))


async def wallet_page(
    *, member_id: int, status: str | None, first: int, after: tuple[str, int] | None, now: datetime
) -> list[Coupon]:
    """`first + 1` of the member's coupons newest first, keyset by (issuedAt, id)."""
    queryset = wallet(member_id=member_id, status=status, now=now)
    return await keyset_page(queryset, field="issued_at", after=after, first=first, descending=True)


@dataclass(frozen=True)
class UsedCoupon:
    """A coupon as a receipt's answer names it."""

    code: str
    reward_id: int
    title: str


async def use_coupons(
    *, codes: tuple[str, ...], card: Card, purchase: Purchase, now: datetime
) -> None:
    """Burn the coupons presented with a receipt, each exactly once: COUPON_NOT_FOUND for an
    unknown code; COUPON_NOT_ACTIVE for a used, expired or cancelled one, or one that is not the
    card's member's. Call inside the receipt's transaction, which rolls back whole on a refusal.

    Each coupon row is locked (`FOR UPDATE`) before its status is read, so of several tills
    presenting one coupon at once, one burns it and the others find it USED.
    """
    for code in sorted(set(codes)):
        coupon = await Coupon.select_for_update().get_or_none(code=code)
        if coupon is None:
            raise DomainError(
                ErrorCode.COUPON_NOT_FOUND, "No coupon has this code.", field="couponCodes"
            )
        if (
            card.member_id != coupon.member_id
            or coupon_status(coupon, now=now) != CouponStatus.ACTIVE
        ):
            raise DomainError(ErrorCode.COUPON_NOT_ACTIVE, COUPON_NOT_ACTIVE, field="couponCodes")
        await Coupon.filter(id=coupon.id).update(
            status=CouponStatus.USED, used_at=now, used_purchase_id=purchase.id
        )
        events.publish_after_commit(
            events.coupon_changed(member_id=coupon.member_id, coupon_id=coupon.id)
        )


async def coupons_used_by(purchase_id: int) -> tuple[UsedCoupon, ...]:
    """The coupons a receipt used, in code order: the first answer and any replay's."""
    coupons = await Coupon.filter(used_purchase_id=purchase_id).order_by("code")
    titles = await reward_titles(coupons)
    return tuple(UsedCoupon(c.code, c.reward_id, titles[c.reward_id]) for c in coupons)


async def reward_titles(coupons: list[Coupon]) -> dict[int, str]:
    """The titles of the coupons' rewards, by reward id (one query, none for no coupons)."""
    if not coupons:
        return {}
    rows = await Reward.filter(id__in={c.reward_id for c in coupons}).values_list("id", "title")
    return {int(pk): str(title) for pk, title in rows}


async def usable_coupons(*, member_id: int, now: datetime) -> list[Coupon]:
    """The member's coupons a till can accept now, soonest-ending first."""
    return await Coupon.filter(usable(now), member_id=member_id).order_by("valid_until", "id")


@dataclass(frozen=True)
class Benefits:
    """What a scanned card's member can use now."""

    coupons: list[Coupon]
    titles: dict[int, str]
    offers: list[Offer]


async def card_benefits(*, number: str, now: datetime | None = None) -> Benefits:
    """The active coupons and activated offers of the card's member (none for an unlinked
    card). CARD_NOT_FOUND, CARD_INACTIVE."""
    now = now or datetime.now(UTC)
    card = await Card.get_or_none(number=number)
    if card is None:
        raise DomainError(ErrorCode.CARD_NOT_FOUND, "No card has this number.", field="number")
    if card.status is CardStatus.INACTIVE:
        raise DomainError(ErrorCode.CARD_INACTIVE, "This card is deactivated.", field="number")
    member = None if card.member_id is None else await Member.get_or_none(id=card.member_id)
    if member is None:
        return Benefits(coupons=[], titles={}, offers=[])
    coupons = await usable_coupons(member_id=member.id, now=now)
    return Benefits(
        coupons=coupons,
        titles=await reward_titles(coupons),
        offers=await activated_offers(member=member, now=now),
    )
