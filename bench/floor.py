"""The floor: hand-written Starlette endpoints that run the SQL the BFF runs for each workload,
straight through asyncpg, and answer the same JSON. Bench-only code; nothing here is reused.

`uvicorn bench.floor:build_floor_app --factory` with DATABASE_URL set; POST /graphql with the
body the client would send (operationName picks the workload).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bff.settings import Settings

SESSION = """
SELECT s.id, s.member_id, s.expires_at, s.last_seen_at, m.first_name, m.last_name,
       m.company_name, m.program_status, m.closed_at
FROM session s JOIN member m ON m.id = s.member_id
WHERE s.token_hash = $1 AND s.revoked_at IS NULL LIMIT 1
"""
TOUCH = "UPDATE session SET last_seen_at = $1 WHERE id = $2"
CARDS = """
SELECT id, number, label, status, kind FROM card WHERE member_id = $1 ORDER BY linked_at, id
"""
BALANCE = """
SELECT member_id, NULL AS kind,
       SUM(CASE WHEN available_at <= $1 THEN remaining END) AS available,
       SUM(CASE WHEN available_at > $1 THEN remaining END) AS pending,
       SUM(CASE WHEN available_at <= $1 AND expires_at <= $2 THEN remaining END) AS soon,
       MIN(CASE WHEN available_at <= $1 THEN expires_at END) AS next_expiry,
       COUNT(CASE WHEN expires_at <= $3 THEN id END) AS due
FROM points_lot WHERE remaining > 0 AND member_id IN ($4) GROUP BY member_id
UNION ALL
SELECT member_id, kind, SUM(amount), NULL, NULL, NULL, NULL
FROM points_entry WHERE member_id IN ($4) GROUP BY member_id, kind
"""
TRANSACTIONS = """
SELECT id, member_id, card_id, occurred_at, store_id, total, points_earned, points_redeemed
FROM purchase WHERE member_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2
"""
CARDS_BY_ID = "SELECT id, member_id, number, label FROM card WHERE id = ANY($1)"
OFFERS = """
SELECT id, title, discount_percent, valid_until, exclusive, member_id FROM offer
WHERE valid_from <= $1 AND valid_until > $1 AND (member_id IS NULL OR member_id = $2)
  AND ($3 OR NOT exclusive) AND (minimum_tier IS NULL {tiers})
ORDER BY valid_until, id LIMIT $4
"""
# The app's statement (bff.loyalty.tiers._read), as it sends it: the stored tier row and the
# window's spend in cents, evaluated below the way bff.loyalty.tiers._evaluate does.
CENTS = "CAST(ROUND((p.total - p.returned_total) * 100) AS BIGINT)"
TIER = f"""
SELECT m.id AS member_id, m.program_joined_at AS joined_at, t.tier AS tier,
  t.since AS since, t.evaluated_month AS evaluated_month,
  SUM({CENTS}) AS spend,
  SUM(CASE WHEN p.occurred_at >= $1 THEN {CENTS} END) AS kept
FROM member m
LEFT JOIN member_tier t ON t.member_id = m.id
LEFT JOIN purchase p ON p.member_id = m.id
  AND p.occurred_at >= $2
  AND (t.counted_from IS NULL OR p.occurred_at >= t.counted_from)
WHERE m.id IN ($3)
GROUP BY m.id, m.program_joined_at, t.tier, t.since, t.evaluated_month
"""
TIER_CODES = ("BLUE", "SILVER", "GOLD")  # lowest first
ACTIVATED = """
SELECT offer_id FROM offer_activation
WHERE member_id = $1 AND offer_id = ANY($2) AND lapsed_at IS NULL
"""
MEMBER_BY_EMAIL = """
SELECT id, first_name, password_hash, closed_at, language FROM member WHERE email = $1
"""
NEW_SESSION = """
INSERT INTO session (member_id, token_hash, transport, created_at, last_seen_at, expires_at)
VALUES ($1, $2, 'BEARER', $3, $3, $4)
"""
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def add_months(moment: datetime, count: int) -> datetime:
    """The first instant of the UTC month `count` months after the month of `moment`."""
    index = moment.year * 12 + moment.month - 1 + count
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


class Floor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: asyncpg.Pool | None = None
        self.hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost_kib,
            parallelism=settings.argon2_parallelism,
        )
        self.hashing = asyncio.Semaphore(settings.password_hashes_in_flight)

    async def member(self, db: asyncpg.Connection, request: Request) -> asyncpg.Record | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        row = await db.fetchrow(SESSION, hashlib.sha256(token.encode()).hexdigest())
        now = datetime.now(UTC)
        if row is None or row["expires_at"] <= now or row["closed_at"] is not None:
            return None
        if row["last_seen_at"] + self.settings.session_idle_timeout <= now:
            return None
        if now - row["last_seen_at"] >= LAST_SEEN_RESOLUTION:
            await db.execute(TOUCH, now, row["id"])
        return row

    async def points(self, db: asyncpg.Connection, member_id: int) -> dict[str, Any]:
        now = datetime.now(UTC)
        rows = await db.fetch(
            BALANCE, now, now + self.settings.points_expiring_soon, now, member_id
        )
        lots = next((row for row in rows if row["kind"] is None), None)
        return {
            "available": int(lots["available"] or 0) if lots else 0,
            "pending": int(lots["pending"] or 0) if lots else 0,
            "expiringSoon": int(lots["soon"] or 0) if lots else 0,
            "nextExpiryAt": iso(lots["next_expiry"]) if lots else None,
        }

    async def tier(self, db: asyncpg.Connection, member: asyncpg.Record) -> dict[str, Any] | None:
        """The member's tier: None unless enrolled (no statement then, as in the app)."""
        if member["program_status"] != "ENROLLED":
            return None
        now = datetime.now(UTC)
        this_month = add_months(now, 0)
        window = self.settings.tier_window_full_months
        row = await db.fetchrow(
            TIER, add_months(now, 1 - window), add_months(now, -window), member["member_id"]
        )
        assert row is not None
        spend = Decimal(int(row["spend"] or 0)) * Decimal("0.01")
        kept = Decimal(int(row["kept"] or 0)) * Decimal("0.01")
        thresholds = self.settings.tier_thresholds

        def reached(amount: Decimal) -> int:
            return max((n for n, limit in enumerate(thresholds) if amount >= limit), default=0)

        earned = reached(spend)
        rank = earned
        if row["tier"] is not None and row["evaluated_month"] == this_month:
            rank = max(earned, TIER_CODES.index(row["tier"]))
        kept_rank = reached(kept)
        top = rank + 1 >= len(TIER_CODES)
        return {
            "rank": rank,
            "tier": {"code": TIER_CODES[rank], "name": self.settings.tier_names[rank]},
            "windowSpend": str(spend),
            "nextTier": None
            if top
            else {
                "code": TIER_CODES[rank + 1],
                "name": self.settings.tier_names[rank + 1],
                "threshold": str(thresholds[rank + 1]),
            },
            "spendToNextTier": None if top else str(max(Decimal(0), thresholds[rank + 1] - spend)),
            "lapsesAt": iso(add_months(now, 1)) if kept_rank < rank else None,
        }

    async def cards(
        self, db: asyncpg.Connection, member_id: int, fields: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        cards = []
        for row in await db.fetch(CARDS, member_id):
            card = {
                "id": global_id("Card", row["id"]),
                "number": row["number"],
                "barcode": row["number"],
                "kind": row["kind"],
                "label": row["label"],
                "status": row["status"],
            }
            cards.append({key: card[key] for key in fields})
        return cards

    async def offers(
        self,
        db: asyncpg.Connection,
        member: asyncpg.Record,
        tier: dict[str, Any] | None,
        first: int,
        fields: tuple[str, ...],
    ) -> dict[str, Any]:
        enrolled = member["program_status"] == "ENROLLED"
        now = datetime.now(UTC)
        # The minimum tiers the member's tier reaches (none without a tier), one parameter each.
        reached = TIER_CODES[: tier["rank"] + 1] if tier is not None else ()
        marks = ", ".join(f"${5 + i}" for i in range(len(reached)))
        sql = OFFERS.format(tiers=f"OR minimum_tier IN ({marks})" if reached else "")
        rows = (await db.fetch(sql, now, member["member_id"], enrolled, first + 1, *reached))[
            :first
        ]
        active = {
            row["offer_id"]
            for row in await db.fetch(ACTIVATED, member["member_id"], [r["id"] for r in rows])
        }
        edges = []
        for row in rows:
            node = {
                "id": global_id("Offer", row["id"]),
                "title": row["title"],
                "discountPercent": row["discount_percent"],
                "validUntil": iso(row["valid_until"]),
                "exclusive": row["exclusive"],
                "kind": "PERSONAL"
                if row["member_id"] is not None
                else ("EXCLUSIVE" if row["exclusive"] else "PUBLIC"),
                "activated": row["id"] in active,
            }
            edges.append({"node": {key: node[key] for key in fields}})
        return {"edges": edges}

    async def transactions(self, db: asyncpg.Connection, member_id: int) -> dict[str, Any]:
        rows = (await db.fetch(TRANSACTIONS, member_id, 11))[:10]
        cards = {
            row["id"]: row
            for row in await db.fetch(CARDS_BY_ID, list({row["card_id"] for row in rows}))
        }
        edges = []
        for row in rows:
            card = cards.get(row["card_id"])
            edges.append(
                {
                    "node": {
                        "id": global_id("Transaction", row["id"]),
                        "occurredAt": iso(row["occurred_at"]),
                        "storeId": row["store_id"],
                        "total": str(row["total"]),
                        "pointsEarned": row["points_earned"],
                        "pointsRedeemed": row["points_redeemed"],
                        "card": {
                            "id": global_id("Card", card["id"]),
                            "number": card["number"],
                            "label": card["label"],
                        }
                        if card is not None and card["member_id"] == row["member_id"]
                        else None,
                    }
                }
            )
        return {"edges": edges}

    async def dashboard(self, db: asyncpg.Connection, request: Request) -> dict[str, Any]:
        member = await self.member(db, request)
        if member is None:
            return {"me": None}
        member_id = member["member_id"]
        tier = await self.tier(db, member)
        return {
            "me": {
                "id": global_id("Member", member_id),
                "firstName": member["first_name"],
                "lastName": member["last_name"],
                "companyName": member["company_name"],
                "programStatus": member["program_status"],
                "tier": None
                if tier is None
                else {
                    key: tier[key]
                    for key in ("tier", "windowSpend", "nextTier", "spendToNextTier", "lapsesAt")
                },
                "cards": await self.cards(
                    db, member_id, ("id", "number", "barcode", "kind", "label", "status")
                ),
                "points": await self.points(db, member_id),
                "transactions": await self.transactions(db, member_id),
                "offers": await self.offers(
                    db,
                    member,
                    tier,
                    10,
                    (
                        "id",
                        "title",
                        "discountPercent",
                        "validUntil",
                        "exclusive",
                        "kind",
                        "activated",
                    ),
                ),
            }
        }

    async def home(self, db: asyncpg.Connection, request: Request) -> dict[str, Any]:
        member = await self.member(db, request)
        if member is None:
            return {"me": None}
        member_id = member["member_id"]
        tier = await self.tier(db, member)
        return {
            "me": {
                "id": global_id("Member", member_id),
                "firstName": member["first_name"],
                "tier": None
                if tier is None
                else {
                    "tier": tier["tier"],
                    "nextTier": {"name": tier["nextTier"]["name"]} if tier["nextTier"] else None,
                    "spendToNextTier": tier["spendToNextTier"],
                },
                "points": await self.points(db, member_id),
                "cards": await self.cards(db, member_id, ("id", "number", "label", "status")),
                "offers": await self.offers(
                    db,
                    member,
                    tier,
                    5,
                    ("id", "title", "discountPercent", "validUntil", "activated"),
                ),
            }
        }

    async def login(self, db: asyncpg.Connection, variables: dict[str, Any]) -> dict[str, Any]:
        row = await db.fetchrow(MEMBER_BY_EMAIL, variables["email"].strip().lower())
        async with self.hashing:
            ok = row is not None and await asyncio.to_thread(
                self._verify, row["password_hash"], variables["password"]
            )
        if not ok or row is None:
            errors = [
                {
                    "field": None,
                    "code": "INVALID_CREDENTIALS",
                    "message": "Wrong email or password.",
                }
            ]
            return {
                "login": {
                    "token": None,
                    "twoFactorChallenge": None,
                    "member": None,
                    "userErrors": errors,
                }
            }
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        await db.execute(
            NEW_SESSION,
            row["id"],
            hashlib.sha256(token.encode()).hexdigest(),
            now,
            now + self.settings.session_absolute_lifetime,
        )
        return {
            "login": {
                "token": token,
                "twoFactorChallenge": None,
                "member": {
                    "id": global_id("Member", row["id"]),
                    "firstName": row["first_name"],
                    "language": row["language"].upper(),
                },
                "userErrors": [],
            }
        }

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except VerificationError:
            return False

    async def graphql(self, request: Request) -> JSONResponse:
        body = await request.json()
        assert self.pool is not None
        async with self.pool.acquire() as db:
            operation = body.get("operationName")
            if operation == "WebDashboard":
                data = await self.dashboard(db, request)
            elif operation == "MobileHome":
                data = await self.home(db, request)
            elif operation == "MobileLogin":
                data = await self.login(db, body["variables"])
            else:
                return JSONResponse({"errors": [{"message": "unknown operation"}]}, 400)
        return JSONResponse({"data": data})


def build_floor_app() -> Starlette:
    settings = Settings()
    floor = Floor(settings)
    dsn = settings.database_url.replace("postgres://", "postgresql://", 1)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        floor.pool = await asyncpg.create_pool(
            dsn, min_size=2, max_size=int(os.environ.get("DATABASE_POOL_MAX", "20"))
        )
        try:
            yield
        finally:
            await floor.pool.close()

    return Starlette(routes=[Route("/graphql", floor.graphql, methods=["POST"])], lifespan=lifespan)
