"""Demo data for `make run`: a member with cards, 18 months of purchases and offers to browse.

The purchases are replayed through the ledger's rules in memory (earn lots, soonest-expiring
redemption, expiry before each redemption) and written with bulk inserts, so seeding stays fast
on SQLite. Expiries due after the last purchase are left for the first read to materialise,
as in production.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bff.db.connection import close_db, init_db
from bff.identity.models import Member
from bff.identity.passwords import hash_password, password_problem
from bff.loyalty.codes import code_hash
from bff.loyalty.ledger import points_for_total, portions
from bff.loyalty.models import Card, CardStatus, EntryKind, PointsEntry, PointsLot, Purchase
from bff.loyalty.numbers import check_digit, generate_number
from bff.offers.models import Offer
from bff.profile.models import Preferences
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


@dataclass
class _Lot:
    purchase_index: int
    card: Card
    amount: int
    remaining: int
    available_at: datetime
    expires_at: datetime


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
    await Preferences.create(member=member, updated_at=now)
    secret = settings.secret_key.get_secret_value()
    cards = []
    for label, linked_days_ago in (
        ("Head office", HISTORY_DAYS + 20),
        ("Warehouse", 300),
        (None, 90),
    ):
        number = await _free_number()
        cards.append(
            await Card.create(
                number=number,
                code_hash=code_hash(number=number, code=secrets.token_hex(3), secret_key=secret),
                member=member,
                label=label,
                linked_at=now - timedelta(days=linked_days_ago),
            )
        )
    unlinked = await Card.get_or_none(number=UNLINKED_CARD_NUMBER)
    if unlinked is None:
        unlinked = await Card.create(
            number=UNLINKED_CARD_NUMBER,
            code_hash=code_hash(
                number=UNLINKED_CARD_NUMBER, code=UNLINKED_CARD_CODE, secret_key=secret
            ),
        )
    await _replay_purchases(member, cards, unlinked, settings=settings, now=now, rng=rng)
    await _create_offers(member, now=now, rng=rng)


async def _free_number() -> str:
    while True:
        number = generate_number()
        if not await Card.exists(number=number):
            return number


async def _replay_purchases(
    member: Member,
    cards: list[Card],
    unlinked: Card,
    *,
    settings: Settings,
    now: datetime,
    rng: random.Random,
) -> None:
    """~200 purchases over 18 months, 8 in the return window; every 12th redeems."""
    times = sorted(
        [now - timedelta(days=rng.uniform(14, HISTORY_DAYS)) for _ in range(PURCHASES - 8)]
        + [now - timedelta(days=rng.uniform(0.1, 13)) for _ in range(8)]
    )
    second_linked_at = cards[1].linked_at or now
    purchases: list[Purchase] = []
    entries: list[tuple[int, PointsEntry]] = []  # (purchase index, entry)
    lots: list[_Lot] = []
    for index, occurred_at in enumerate(times):
        # Only the first card was linked at the start of the history.
        card = cards[0] if occurred_at < second_linked_at else rng.choice(cards)
        total = Decimal(rng.randrange(1_500, 250_000)) / 100
        earned = points_for_total(total, units_per_point=settings.currency_units_per_point)
        for lot in lots:  # expiry before anything is redeemed, as the ledger does
            if lot.remaining and lot.expires_at <= occurred_at:
                expiry = _entry(member, lot.card, EntryKind.EXPIRE, -lot.remaining, lot.expires_at)
                entries.append((-1, expiry))
                lot.remaining = 0
        redeemed = 0
        if index % REDEEM_EVERY == REDEEM_EVERY - 1:
            redeemed = _redeem(lots, at=occurred_at, wanted=rng.randrange(50, 400))
            if redeemed:
                redemption = _entry(member, card, EntryKind.REDEEM, -redeemed, occurred_at)
                entries.append((index, redemption))
        purchases.append(
            Purchase(
                receipt_id=f"DEMO-{index + 1:05d}",
                request_fingerprint=secrets.token_hex(32),
                card_id=card.id,
                member_id=member.id,
                store_id=rng.choice(STORES),
                total=total,
                occurred_at=occurred_at,
                points_earned=earned,
                points_redeemed=redeemed,
                recorded_at=occurred_at,
            )
        )
        if earned:
            entries.append((index, _entry(member, card, EntryKind.EARN, earned, occurred_at)))
            lots.append(
                _Lot(
                    purchase_index=index,
                    card=card,
                    amount=earned,
                    remaining=earned,
                    available_at=occurred_at + settings.points_return_window,
                    expires_at=occurred_at + settings.points_lifetime,
                )
            )
    await Purchase.bulk_create(purchases, batch_size=500)
    ids = dict(
        await Purchase.filter(receipt_id__startswith="DEMO-").values_list("receipt_id", "id")
    )
    for purchase_index, entry in entries:
        if purchase_index >= 0:
            entry.purchase_id = ids[purchases[purchase_index].receipt_id]
    await PointsEntry.bulk_create([entry for _, entry in entries], batch_size=500)
    earn_ids = await (
        PointsEntry.filter(member_id=member.id, kind=EntryKind.EARN)
        .order_by("id")
        .values_list("id", flat=True)
    )
    await PointsLot.bulk_create(
        [
            PointsLot(
                member_id=member.id,
                card_id=lot.card.id,
                earn_entry_id=earn_id,
                amount=lot.amount,
                remaining=lot.remaining,
                available_at=lot.available_at,
                expires_at=lot.expires_at,
            )
            for lot, earn_id in zip(lots, earn_ids, strict=True)
        ],
        batch_size=500,
    )
    await Card.filter(id__in=[card.id for card in cards]).update(last_used_at=times[-1])
    await Card.filter(id=cards[2].id).update(status=CardStatus.INACTIVE)
    del unlinked  # its points come from the tills: it starts empty, ready to be linked


def _entry(
    member: Member, card: Card, kind: EntryKind, amount: int, occurred_at: datetime
) -> PointsEntry:
    return PointsEntry(
        member_id=member.id, card_id=card.id, kind=kind, amount=amount, occurred_at=occurred_at
    )


def _redeem(lots: list[_Lot], *, at: datetime, wanted: int) -> int:
    """Take up to `wanted` available points, soonest-expiring first; the points taken."""
    usable = sorted(
        (lot for lot in lots if lot.remaining and lot.available_at <= at < lot.expires_at),
        key=lambda lot: (lot.expires_at, lot.purchase_index),
    )
    taken = portions([lot.remaining for lot in usable], wanted)
    for lot, part in zip(usable, taken, strict=True):
        lot.remaining -= part
    return sum(taken)


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
