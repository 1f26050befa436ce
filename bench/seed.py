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
from bff.loyalty.tiers import add_months, month_start
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
            # Wholesale customers spend at different scales: most stay Blue, about a fifth
            # spends Silver's threshold within the tier window and one in fifteen Gold's.
            scale = rng.choices((1, 4, 12), weights=(75, 18, 7))[0]
            plan_rows.append((member_id, card_id + 1, count, rng.randint(20, 180), scale))
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
            "CREATE TEMP TABLE plan "
            "(member_id bigint, first_card bigint, cards int, purchases int, scale int)"
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
                SELECT round(((5 + random() * 2000) * p.scale)::numeric, 2) AS total,
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
        await seed_history(connection, now=now, settings=settings)
        for table in ("member", "card", "offer"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        for table in SEQUENCED:
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
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


# Tables seed_history fills with explicit ids: their sequences continue after them.
SEQUENCED = ("reward", "points_entry", "outbox_message")
MESSAGES_PER_MEMBER = 8
REWARDS = 40


async def seed_history(
    connection: asyncpg.Connection, *, now: datetime, settings: Settings
) -> None:
    """What members accumulate besides purchases, so every table that grows with the members
    holds rows in proportion (tests/db/test_indexes.py judges only filled tables): stored tiers
    and their changes, coupons bought with points (their REDEEM entries and draws), a return,
    messages (outbox, notifications, deliveries), a push device, consents, email tokens, and
    two-factor rows for one member in ten. Generated inside PostgreSQL."""
    this_month = month_start(now)
    window = settings.tier_window_full_months
    silver, gold = settings.tier_thresholds[1], settings.tier_thresholds[2]
    # A return for one purchase in twenty: a quarter of it, its points taken back.
    await connection.execute(
        """
        CREATE TEMP TABLE returned AS
        SELECT p.id AS purchase_id, p.member_id, p.occurred_at,
               round(p.total / 4, 2) AS amount, floor(p.total / 4 / 10)::int AS points
        FROM purchase p
        WHERE p.id % 20 = 0
        """
    )
    await connection.execute(
        """
        INSERT INTO purchase_return (return_id, request_fingerprint, purchase_id, amount,
                                     occurred_at, points_returned, points_shortfall, recorded_at)
        SELECT 'ret-' || purchase_id, md5('ret-' || purchase_id), purchase_id, amount,
               occurred_at + interval '1 day', points, 0, occurred_at + interval '1 day'
        FROM returned;
        UPDATE purchase p SET returned_total = r.amount, points_returned = r.points
        FROM returned r WHERE p.id = r.purchase_id;
        UPDATE points_lot l SET remaining = l.remaining - r.points
        FROM returned r JOIN points_entry e ON e.purchase_id = r.purchase_id AND e.kind = 'EARN'
        WHERE l.earn_entry_id = e.id;
        INSERT INTO points_entry (member_id, kind, amount, occurred_at, purchase_id)
        SELECT member_id, 'RETURN', -points, occurred_at + interval '1 day', purchase_id
        FROM returned
        """
    )
    # Tiers as bff.loyalty.tiers evaluates them now (reads then write nothing), a change from
    # the start for everyone and one up for the Silver and Gold members.
    await connection.execute(
        """
        INSERT INTO member_tier (member_id, tier, since, evaluated_month, counted_from)
        SELECT m.id,
               CASE WHEN s.spend >= $3 THEN 'GOLD' WHEN s.spend >= $2 THEN 'SILVER'
                    ELSE 'BLUE' END,
               m.program_joined_at, $4, NULL
        FROM member m
        JOIN (
            SELECT m.id, coalesce(sum(p.total - p.returned_total), 0) AS spend
            FROM member m LEFT JOIN purchase p ON p.member_id = m.id AND p.occurred_at >= $1
            GROUP BY m.id
        ) s ON s.id = m.id
        """,
        add_months(this_month, -window),
        silver,
        gold,
        this_month,
    )
    await connection.execute(
        """
        INSERT INTO tier_change (member_id, from_tier, to_tier, changed_at, window_spend)
        SELECT member_id, NULL, 'BLUE', since, 0 FROM member_tier;
        INSERT INTO tier_change (member_id, from_tier, to_tier, changed_at, window_spend)
        SELECT member_id, 'BLUE', tier, since + interval '1 day', 0
        FROM member_tier WHERE tier <> 'BLUE'
        """
    )
    # The reward catalogue, and two coupons per member paid from two of their available lots
    # (the first active, the second used at a till).
    await connection.execute(
        """
        INSERT INTO reward (id, title, description, cost, stock, valid_until, minimum_tier,
                            coupon_valid_days, created_at)
        SELECT n, 'Reward ' || n, 'A reward of the bench', 50 + (n % 10) * 10,
               CASE WHEN n % 4 = 0 THEN 1000000 END, NULL,
               CASE n % 5 WHEN 3 THEN 'SILVER' WHEN 4 THEN 'GOLD' END, 30, $1
        FROM generate_series(1, $2) AS n
        """,
        now,
        REWARDS,
    )
    base = await connection.fetchval("SELECT coalesce(max(id), 0) FROM points_entry")
    await connection.execute(
        """
        CREATE TEMP TABLE spent AS
        SELECT $1::bigint + row_number() OVER (ORDER BY m.id, k) AS entry_id, m.id AS member_id,
               k, r.id AS reward_id, r.cost, $2::timestamptz - k * interval '9 days' AS at,
               (SELECT l.id FROM points_lot l
                WHERE l.member_id = m.id AND l.remaining >= r.cost
                  AND l.available_at <= $2 AND l.expires_at > $2
                ORDER BY l.expires_at, l.id OFFSET k - 1 LIMIT 1) AS lot_id
        FROM member m
        CROSS JOIN generate_series(1, 2) AS k
        JOIN reward r ON r.id = 1 + ((m.id * 7 + k) % 8) * 5
        """,
        base,
        now,
    )
    await connection.execute(
        """
        DELETE FROM spent WHERE lot_id IS NULL;
        INSERT INTO points_entry (id, member_id, kind, amount, occurred_at, reward_id)
        SELECT entry_id, member_id, 'REDEEM', -cost, at, reward_id FROM spent;
        INSERT INTO points_draw (entry_id, lot_id, points) SELECT entry_id, lot_id, cost FROM spent;
        UPDATE points_lot l SET remaining = l.remaining - s.cost FROM spent s WHERE l.id = s.lot_id;
        INSERT INTO coupon (code, member_id, reward_id, idempotency_key, redeem_entry_id,
                            points_spent, status, issued_at, valid_until, used_at)
        SELECT 'B' || lpad(entry_id::text, 11, '0'), member_id, reward_id, 'bench-' || entry_id,
               entry_id, cost, CASE k WHEN 2 THEN 'USED' ELSE 'ACTIVE' END, at,
               at + interval '30 days', CASE k WHEN 2 THEN at + interval '1 day' END
        FROM spent;
        UPDATE offer_activation SET used_at = activated_at WHERE id % 3 = 0
        """
    )
    # Messages: each dispatched into a notification (half of them read) and a mail sent.
    await connection.execute(
        """
        INSERT INTO outbox_message (id, member_id, kind, params, created_at, dispatched_at)
        SELECT (m.id - 1) * $2 + k, m.id, 'POINTS_CREDITED', '{"points":10}',
               $1::timestamptz - k * interval '5 days', $1::timestamptz - k * interval '5 days'
        FROM member m CROSS JOIN generate_series(1, $2) AS k
        """,
        now,
        MESSAGES_PER_MEMBER,
    )
    await connection.execute(
        """
        INSERT INTO notification (member_id, message_id, kind, title, body, created_at, read_at)
        SELECT member_id, id, kind, 'Points credited', '10 points', created_at,
               CASE WHEN id % 2 = 0 THEN created_at + interval '1 hour' END
        FROM outbox_message;
        INSERT INTO delivery (message_id, member_id, channel, address, kind, language, params,
                              status, attempts, created_at, sent_at)
        SELECT id, member_id, 'EMAIL', 'member' || member_id || '@bench.example', kind, 'en',
               '{}', 'SENT', 1, created_at, created_at
        FROM outbox_message
        """
    )
    await connection.execute(
        """
        INSERT INTO push_device (member_id, session_id, platform, token, name, created_at,
                                 last_seen_at)
        SELECT member_id, id, 'ANDROID', 'push-' || id, 'Phone', created_at, created_at
        FROM session;
        INSERT INTO consent_event (member_id, channel, granted, occurred_at)
        SELECT id, 'EMAIL', false, created_at FROM member;
        INSERT INTO email_token (member_id, purpose, token_hash, email, created_at, expires_at,
                                 used_at)
        SELECT id, 'VERIFY_EMAIL', md5('verify-' || id) || md5('token-' || id), email,
               created_at, created_at + interval '1 day', created_at + interval '1 hour'
        FROM member;
        INSERT INTO recovery_code (member_id, code_hash, used_at)
        SELECT m.id, md5('code-' || m.id || '-' || k) || md5('more-' || m.id || '-' || k), NULL
        FROM member m CROSS JOIN generate_series(1, 10) AS k WHERE m.id % 10 = 0;
        INSERT INTO two_factor_challenge (member_id, token_hash, transport, created_at,
                                          expires_at, used_at)
        SELECT m.id, md5('challenge-' || m.id || '-' || k) || md5('2fa-' || m.id || '-' || k),
               'BEARER', m.created_at, m.created_at + interval '5 minutes', m.created_at
        FROM member m CROSS JOIN generate_series(1, 10) AS k WHERE m.id % 10 = 0
        """
    )
