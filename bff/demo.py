"""Demo data for `make run`: a member with cards, 18 months of purchases, offers to browse,
rewards to buy and a coupon in the wallet.

The cards are linked and the purchases recorded through the loyalty domain itself, each with the
clock stopped at its historical time, so the ledger holds what the tills would have made of them.
Expiries due after the last purchase are left for the first read to materialise, as in
production. One transaction around it all keeps seeding fast on SQLite (one commit).
"""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from bff import events
from bff.db.connection import close_db, init_db
from bff.identity.models import Member
from bff.identity.passwords import hash_password, password_problem
from bff.loyalty.cards import attach_card, issue_card, set_card_status
from bff.loyalty.ledger import PointsOwner, read_balance
from bff.loyalty.models import Card, CardStatus, Purchase
from bff.loyalty.numbers import check_digit
from bff.loyalty.purchases import PurchaseRequest, record_purchase
from bff.loyalty.returns import ReturnRequest, record_return
from bff.loyalty.rewards import publish_reward, redeem_reward
from bff.loyalty.tiers import TierCode
from bff.offers.models import Offer
from bff.settings import Settings

DEMO_EMAIL = "demo@example.com"
# Printed in the README so that a newcomer can try linkCard: it is not a secret.
UNLINKED_CARD_BODY = "290000000001"
UNLINKED_CARD_NUMBER = UNLINKED_CARD_BODY + str(check_digit(UNLINKED_CARD_BODY))
UNLINKED_CARD_CODE = "246810"
PURCHASES = 200
HISTORY_DAYS = 540
OFFERS_PER_KIND = 30
REDEEM_EVERY = 12
PAST_OFFER_EVERY = 10
STORES = ("msk-01", "msk-02", "spb-01", "ekb-01", "kzn-01")
# (title, cost in points, items in stock or None for unlimited, minimum tier)
REWARDS = (
    ("Coffee for the team", 150, None, None),
    ("Delivery free of charge", 400, None, None),
    ("Branded apron", 900, 25, None),
    ("Chef's knife", 2_500, 5, None),
    ("Espresso machine", 12_000, 1, None),
    ("Cooking masterclass for two", 6_000, 10, TierCode.GOLD),
)
OFFER_TOPICS = (
    "Coffee beans",
    "Cleaning supplies",
    "Office paper",
    "Frozen seafood",
    "Kitchen equipment",
    "Bottled water",
    "Packaging film",
    "Workwear",
    "Fresh produce",
    "Dairy",
)


async def seed_demo(settings: Settings, *, only_if_empty: bool) -> str:
    """`bff seed-demo`: open the database, load the demo data, say how to sign in.

    When the demo member exists, it gets a new password instead (also with `only_if_empty`), so
    every `make run` prints a login that works: only the hash is stored, never the password.
    """
    await init_db(settings)
    try:
        if only_if_empty and await Member.exists(email=DEMO_EMAIL):
            only_if_empty = False  # load_demo then only sets a new password
        return await load_demo(settings, only_if_empty=only_if_empty)
    finally:
        await close_db()


async def load_demo(settings: Settings, *, only_if_empty: bool, now: datetime | None = None) -> str:
    """Load the demo data (with `only_if_empty`, only into a database without members). Run
    again, it sets a new password for the demo member instead of loading twice."""
    if only_if_empty and await Member.exists():
        return "demo data: the database has members already, nothing loaded"
    password = _demo_password()
    password_hash = await hash_password(password, settings=settings)
    existing = await Member.get_or_none(email=DEMO_EMAIL)
    if existing is not None:
        await Member.filter(id=existing.id).update(password_hash=password_hash)
        return _summary(password, loaded=False)
    await _load(settings, password_hash=password_hash, now=now or datetime.now(UTC))
    return _summary(password, loaded=True)


def _demo_password() -> str:
    while True:
        password = secrets.token_urlsafe(18)  # 24 characters, 144 random bits
        if password_problem(password) is None:
            return password


def _summary(password: str, *, loaded: bool) -> str:
    what = (
        "demo data loaded"
        if loaded
        else "demo data already loaded; the demo member has a new password"
    )
    return (
        f"{what}\n"
        f"  sign in as   {DEMO_EMAIL} / {password}\n"
        f"  link a card  number {UNLINKED_CARD_NUMBER}, verification code {UNLINKED_CARD_CODE}"
    )


async def _load(settings: Settings, *, password_hash: str, now: datetime) -> None:
    rng = random.Random(20261125)  # noqa: S311 (demo data, not security)
    async with events.transaction():
        member = await Member.create(
            email=DEMO_EMAIL,
            password_hash=password_hash,
            first_name="Daria",
            last_name="Demidova",
            company_name="Demo Catering LLC",
            terms_version=settings.terms_version,
            terms_accepted_at=now - timedelta(days=HISTORY_DAYS + 30),
            program_joined_at=now - timedelta(days=HISTORY_DAYS + 30),
        )
        # No preferences row, as after registration: `default_preferences` stands for it.
        cards = []
        for label, linked_days_ago in (
            ("Head office", HISTORY_DAYS + 20),
            ("Warehouse", 300),
            (None, 90),
        ):
            issued = await issue_card(settings=settings)
            cards.append(
                await attach_card(
                    member_id=member.id,
                    card_id=issued.card.id,
                    label=label,
                    settings=settings,
                    now=now - timedelta(days=linked_days_ago),
                )
            )
        # Its points come from the tills: it starts empty, ready to be linked.
        if not await Card.exists(number=UNLINKED_CARD_NUMBER):
            await issue_card(
                number=UNLINKED_CARD_NUMBER,
                verification_code=UNLINKED_CARD_CODE,
                settings=settings,
            )
        await _record_purchases(member, cards, settings=settings, now=now, rng=rng)
        await _record_returns(settings=settings, now=now)
        await set_card_status(member_id=member.id, card_id=cards[2].id, status=CardStatus.INACTIVE)
        await _create_offers(member, now=now, rng=rng)
        await _create_rewards(member, settings=settings, now=now)


async def _record_purchases(
    member: Member, cards: list[Card], *, settings: Settings, now: datetime, rng: random.Random
) -> None:
    """~200 purchases over 18 months, 8 in the return window, each on a card linked by then;
    every 12th redeems what it can of a wish."""
    times = sorted(
        [now - timedelta(days=rng.uniform(14, HISTORY_DAYS)) for _ in range(PURCHASES - 8)]
        + [now - timedelta(days=rng.uniform(0.1, 13)) for _ in range(8)]
    )
    owner = PointsOwner(member_id=member.id)
    for index, occurred_at in enumerate(times):
        linked = [card for card in cards if card.linked_at and card.linked_at <= occurred_at]
        card = rng.choice(linked)
        total = Decimal(rng.randrange(1_500, 250_000)) / 100
        redeemed = 0
        if index % REDEEM_EVERY == REDEEM_EVERY - 1:
            balance = await read_balance(
                owner=owner, now=occurred_at, expiring_soon=settings.points_expiring_soon
            )
            redeemed = min(rng.randrange(50, 400), balance.available)
        await record_purchase(
            request=PurchaseRequest(
                receipt_id=f"DEMO-{index + 1:05d}",
                card_number=card.number,
                store_id=rng.choice(STORES),
                total=total,
                occurred_at=occurred_at,
                points_to_redeem=redeemed,
            ),
            settings=settings,
            now=occurred_at,
        )


async def _record_returns(*, settings: Settings, now: datetime) -> None:
    """A third of the newest purchase (still in the return window) and the whole of an older
    one came back, so the purchase history and the points history show returns."""
    for return_id, receipt_id, share in (
        ("DEMO-R-1", f"DEMO-{PURCHASES:05d}", Decimal(1) / 3),
        ("DEMO-R-2", f"DEMO-{PURCHASES - 20:05d}", Decimal(1)),
    ):
        purchase = await Purchase.get(receipt_id=receipt_id)
        await record_return(
            request=ReturnRequest(
                return_id=return_id,
                receipt_id=receipt_id,
                amount=(purchase.total * share).quantize(Decimal("0.01"), rounding=ROUND_DOWN),
            ),
            settings=settings,
            now=now,
        )


async def _create_offers(member: Member, *, now: datetime, rng: random.Random) -> None:
    """30 public, 30 exclusive and 30 targeted offers; most running now, some past or future."""
    offers = []
    suffix = {"public": "", "exclusive": " (members only)", "targeted": " (just for you)"}
    for kind in ("public", "exclusive", "targeted"):
        for index in range(OFFERS_PER_KIND):
            topic = OFFER_TOPICS[index % len(OFFER_TOPICS)]
            starts = now + timedelta(days=rng.randint(-60, -1) if index % 6 else rng.randint(2, 20))
            ends = now + timedelta(days=rng.randint(1, 90))
            if index % PAST_OFFER_EVERY == 0:
                ends = now - timedelta(days=rng.randint(1, 30))
                starts = ends - timedelta(days=30)
            if ends <= starts:
                ends = starts + timedelta(days=14)
            discount = rng.choice((5, 10, 15, 20, 25, 30))
            offers.append(
                Offer(
                    title=f"{topic}: {discount}% off{suffix[kind]}",
                    description=f"{topic} at {discount}% off in every store.",
                    discount_percent=discount,
                    valid_from=starts,
                    valid_until=ends,
                    exclusive=kind == "exclusive",
                    member_id=member.id if kind == "targeted" else None,
                )
            )
    await Offer.bulk_create(offers, batch_size=500)


async def _create_rewards(member: Member, *, settings: Settings, now: datetime) -> None:
    """The rewards catalogue, and a coupon for the cheapest reward in the member's wallet,
    bought a week ago."""
    rewards = [
        await publish_reward(
            title=title,
            description=f"{title}, for points.",
            cost=cost,
            stock=stock,
            valid_until=None,
            minimum_tier=tier,
            coupon_valid_days=30,
        )
        for title, cost, stock, tier in REWARDS
    ]
    await redeem_reward(
        member_id=member.id,
        reward_id=rewards[0].id,
        idempotency_key="demo-coupon",
        settings=settings,
        now=now - timedelta(days=7),
    )
