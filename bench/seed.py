"""Fill a fresh PostgreSQL database for the benchmark, fast: the small tables through COPY, the
million-row ones (purchases, ledger entries, lots) generated inside PostgreSQL."""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from argon2 import PasswordHasher, Type

from bff.identity.tokens import token_hash
from bff.loyalty.numbers import check_digit
from bff.settings import Settings

PASSWORD = "bench-password-correct-horse-battery"


@dataclass(frozen=True)
class Seeded:
    members: int
    cards: int
    purchases: int
    offers: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"seeded {self.members:,} members, {self.cards:,} cards, {self.purchases:,} purchases "
            f"(+ as many ledger entries and lots), {self.offers} offers in {self.seconds:.1f} s"
        )


def member_email(member_id: int) -> str:
    return f"member{member_id}@bench.example"


def member_token(member_id: int, secret: str) -> str:
    """The bearer token of member `member_id`'s session (the load generator derives the same)."""
    return f"bench-{member_id}-{secret}"


def card_number(card_id: int) -> str:
    body = f"29{card_id:010d}"
    return body + str(check_digit(body))


async def seed(dsn: str, *, members: int, offers: int, secret: str, settings: Settings) -> Seeded:
    """Members with 1-9 cards (5 on average) and 20-180 purchases (100 on average) each."""
    started = time.perf_counter()
    rng = random.Random(20261125)
    now = datetime.now(UTC)
    # One hash for everyone, with the app's parameters, so login does the real argon2 work
    # and never rehashes.
    password_hash = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    ).hash(PASSWORD)
    connection = await asyncpg.connect(dsn)
    # Bulk load: no per-row foreign-key triggers (the rows are consistent by construction) and no
    # waiting for the WAL flush; indexes are rebuilt once at the end rather than row by row.
    await connection.execute("SET session_replication_role = replica")
    await connection.execute("SET synchronous_commit = off")
    await connection.execute("SET maintenance_work_mem = '256MB'")
    try:
        stamps = ("2026-01", now, now, now, now)
        member_rows = [
            (i, member_email(i), password_hash, "Bench", f"Member {i}", "ENROLLED", *stamps)
            for i in range(1, members + 1)
        ]
        await connection.copy_records_to_table(
            "member",
            records=member_rows,
            columns=[
                "id",
                "email",
                "password_hash",
                "first_name",
                "last_name",
                "program_status",
                "terms_version",
                "terms_accepted_at",
                "program_joined_at",
                "created_at",
                "updated_at",
            ],
        )
        card_rows, plan_rows = [], []
        card_id = 0
        for member_id in range(1, members + 1):
            count = rng.randint(1, 9)
            plan_rows.append((member_id, card_id + 1, count, rng.randint(20, 180)))
            for _ in range(count):
                card_id += 1
                code = hashlib.sha256(f"code-{card_id}".encode()).hexdigest()
                card_rows.append(
                    (card_id, card_number(card_id), code, member_id, "ACTIVE", now, now, None)
                )
        await connection.copy_records_to_table(
            "card",
            records=card_rows,
            columns=[
                "id",
                "number",
                "code_hash",
                "member_id",
                "status",
                "linked_at",
                "issued_at",
                "label",
            ],
        )
        await connection.copy_records_to_table(
            "preferences",
            records=[
                (i, True, True, True, False, False, False, now) for i in range(1, members + 1)
            ],
            columns=[
                "member_id",
                "notify_by_email",
                "notify_by_sms",
                "notify_by_push",
                "marketing_by_email",
                "marketing_by_sms",
                "marketing_by_push",
                "updated_at",
            ],
        )
        await connection.copy_records_to_table(
            "session",
            records=[
                (
                    i,
                    token_hash(member_token(i, secret)),
                    "BEARER",
                    now,
                    now,
                    now + timedelta(days=30),
                    "bench",
                )
                for i in range(1, members + 1)
            ],
            columns=[
                "member_id",
                "token_hash",
                "transport",
                "created_at",
                "last_seen_at",
                "expires_at",
                "user_agent",
            ],
        )
        offer_rows = []
        for offer_id in range(1, offers + 1):
            kind = offer_id % 10  # 7 in 10 public, 2 exclusive, 1 targeted
            offer_rows.append(
                (
                    offer_id,
                    f"Offer {offer_id}",
                    f"{5 + offer_id % 30}% off selected goods",
                    5 + offer_id % 30,
                    now - timedelta(days=rng.randint(1, 30)),
                    now + timedelta(days=rng.randint(1, 90), seconds=offer_id),
                    kind in {7, 8},
                    rng.randint(1, members) if kind == 9 else None,
                    now,
                )
            )
        await connection.copy_records_to_table(
            "offer",
            records=offer_rows,
            columns=[
                "id",
                "title",
                "description",
                "discount_percent",
                "valid_from",
                "valid_until",
                "exclusive",
                "member_id",
                "created_at",
            ],
        )
        activations = {
            (rng.randint(1, offers), member_id)
            for member_id in range(1, members + 1)
            for _ in range(3)
        }
        await connection.copy_records_to_table(
            "offer_activation",
            records=[(offer_id, member_id, now) for offer_id, member_id in sorted(activations)],
            columns=["offer_id", "member_id", "activated_at"],
        )
        indexes = await connection.fetch(
            """
            SELECT indexname, indexdef FROM pg_indexes i
            WHERE tablename IN ('purchase', 'points_entry', 'points_lot')
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        await connection.execute(
            "CREATE TEMP TABLE plan (member_id bigint, first_card bigint, cards int, purchases int)"
        )
        await connection.copy_records_to_table("plan", records=plan_rows)
        # Purchases of the last 350 days: none has expired yet, so reads never write EXPIRE rows.
        await connection.execute(
            """
            INSERT INTO purchase (receipt_id, request_fingerprint, card_id, member_id, store_id,
                                  total, occurred_at, points_earned, points_redeemed, recorded_at)
            SELECT 'r-' || p.member_id || '-' || n, md5(p.member_id || '-' || n),
                   p.first_card + (n % p.cards), p.member_id, 'store-' || (n % 50),
                   t.total, t.occurred_at, floor(t.total / 10)::int, 0, t.occurred_at
            FROM plan p
            CROSS JOIN LATERAL generate_series(1, p.purchases) AS n
            CROSS JOIN LATERAL (
                SELECT round((5 + random() * 2000)::numeric, 2) AS total,
                       $1::timestamptz - random() * interval '350 days' AS occurred_at
                -- refer to n so PostgreSQL draws new random values per purchase
                WHERE n > 0
            ) t
            """,
            now,
        )
        await connection.execute(
            """
            INSERT INTO points_entry (member_id, card_id, kind, amount, occurred_at, purchase_id)
            SELECT member_id, card_id, 'EARN', points_earned, occurred_at, id FROM purchase
            """
        )
        await connection.execute(
            """
            INSERT INTO points_lot (member_id, card_id, earn_entry_id, amount, remaining,
                                    available_at, expires_at)
            SELECT member_id, card_id, id, amount, amount,
                   occurred_at + interval '14 days', occurred_at + interval '365 days'
            FROM points_entry
            """
        )
        for index in indexes:
            await connection.execute(index["indexdef"])
        for table in ("member", "card", "offer"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        await connection.execute("ANALYZE")
        purchases = await connection.fetchval("SELECT count(*) FROM purchase")
    finally:
        await connection.close()
    return Seeded(
        members=members,
        cards=len(card_rows),
        purchases=purchases,
        offers=offers,
        seconds=time.perf_counter() - started,
    )
