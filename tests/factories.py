"""Rows for tests, written through the models (not the API) when a test needs a given state."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from argon2 import PasswordHasher

from bff.identity.models import Member, ProgramStatus, Session, SessionTransport
from bff.identity.tokens import new_token, token_hash
from bff.loyalty.models import Card, EntryKind, PointsEntry, Purchase

_counter = itertools.count(1)
# The cheap argon2id parameters of conftest.make_settings, so logins never need a rehash.
_test_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


async def create_member(
    *,
    email: str | None = None,
    first_name: str = "Anna",
    last_name: str = "Petrova",
    program_status: ProgramStatus = ProgramStatus.ENROLLED,
    password_hash: str | None = None,
    password: str | None = None,
) -> Member:
    """A member; `password` is hashed with the test parameters (or pass `password_hash`)."""
    now = datetime.now(UTC)
    if password is not None:
        password_hash = _test_hasher.hash(password)
    return await Member.create(
        email=email or f"member{next(_counter)}@example.com",
        first_name=first_name,
        last_name=last_name,
        program_status=program_status,
        terms_version="2026-01",
        terms_accepted_at=now,
        program_joined_at=now,
        password_hash=password_hash,
    )


async def create_session(
    member: Member, *, transport: SessionTransport = SessionTransport.BEARER
) -> str:
    """A live session for `member`; returns its token."""
    now = datetime.now(UTC)
    token = new_token()
    await Session.create(
        member=member,
        token_hash=token_hash(token),
        transport=transport,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=30),
    )
    return token


async def signed_in_member(**member_fields: object) -> tuple[Member, str]:
    """A member and a bearer token for them."""
    member = await create_member(**member_fields)  # type: ignore[arg-type]
    return member, await create_session(member)


async def create_purchase(
    *, member: Member, card: Card, receipt_id: str, total: Decimal, points: int, at: datetime
) -> Purchase:
    """A member's purchase and its EARN entry, written directly (no lot, no API)."""
    purchase = await Purchase.create(
        receipt_id=receipt_id,
        request_fingerprint="f",
        card=card,
        member=member,
        store_id="S1",
        total=total,
        occurred_at=at,
        recorded_at=at,
        points_earned=points,
    )
    await PointsEntry.create(
        member=member,
        card=card,
        kind=EntryKind.EARN,
        amount=points,
        occurred_at=at,
        purchase=purchase,
    )
    return purchase
