"""Tiers of the Metropolia program (SPEC.md "Tiers"): Blue, Silver, Gold by spend over a
qualification window, evaluated whenever they are read or a purchase lands.

The window is the last `TIER_WINDOW_FULL_MONTHS` (3) full calendar months plus the current one,
in UTC. A tier rises as soon as the window's spend reaches a threshold and drops only when the
window moves, at the start of a month, to what the new window's spend supports: within a month
the tier held is the highest reached since the month began (a grace period). The stored row
(`MemberTier`) remembers that highest tier and its month; every read evaluates it again against
the spend now, so no job is needed when the window moves (like points expiry).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bff import events, outbox
from bff.db.sql import Parameters, python_time
from bff.identity.models import Member
from bff.loyalty.ledger import PointsOwner
from bff.loyalty.models import MemberTier, Purchase, TierChange, TierCode
from bff.outbox import MessageKind
from bff.settings import Settings

__all__ = [
    "Tier",
    "TierCode",
    "TierStatus",
    "erase_member",
    "month_start",
    "program_tiers",
    "read_tiers",
    "reevaluate",
    "reset_tier",
    "tier_for_spend",
    "tier_history",
    "visible_tier_codes",
]

CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Tier:
    """One tier's rules, as configured."""

    code: TierCode
    name: str
    threshold: Decimal
    multiplier: Decimal
    benefits: tuple[str, ...]


def program_tiers(settings: Settings) -> list[Tier]:
    """The tiers, lowest first, from the settings (validated there: three, rising from 0)."""
    return [
        Tier(
            code=code,
            name=settings.tier_names[code.rank],
            threshold=settings.tier_thresholds[code.rank],
            multiplier=settings.tier_multipliers[code.rank],
            benefits=tuple(settings.tier_benefits[code.rank]),
        )
        for code in TierCode
    ]


def tier_for_spend(spend: Decimal, tiers: Sequence[Tier]) -> Tier:
    """The highest tier whose threshold the spend reaches."""
    reached = [tier for tier in tiers if spend >= tier.threshold]
    return reached[-1] if reached else tiers[0]


def visible_tier_codes(code: TierCode | None) -> frozenset[str]:
    """The minimum tiers a member holding `code` satisfies (none without a tier)."""
    if code is None:
        return frozenset()
    return frozenset(other.value for other in TierCode if code.reaches(other))


def month_start(moment: datetime) -> datetime:
    """The first instant of the UTC calendar month of `moment`."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(month: datetime, count: int) -> datetime:
    """The first instant of the month `count` months after `month` (a month start)."""
    index = month.year * 12 + month.month - 1 + count
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TierStatus:
    """A member's tier as of one moment, and what it takes to keep or pass it."""

    member_id: int
    tier: Tier
    since: datetime
    window_starts_at: datetime
    window_ends_at: datetime
    window_spend: Decimal
    next_tier: Tier | None
    spend_to_next_tier: Decimal | None
    lapses_at: datetime | None
    # What the stored row says; the evaluation differs from it when it must be written.
    stored_tier: TierCode | None
    stored_month: datetime | None


@dataclass(frozen=True)
class _Reading:
    """One member's stored tier row (if any) and the spends counted for the evaluation."""

    member_id: int
    joined_at: datetime | None
    tier: TierCode | None
    since: datetime | None
    month: datetime | None
    spend: Decimal
    kept: Decimal


def _evaluate(reading: _Reading, *, now: datetime, settings: Settings) -> TierStatus:
    """The tier as of `now`: the rule of the module docstring, written once for reads and
    writes."""
    tiers = program_tiers(settings)
    this_month = month_start(now)
    earned = tier_for_spend(reading.spend, tiers)
    if reading.tier is not None and reading.month == this_month:
        tier = max(earned, tiers[reading.tier.rank], key=lambda held: held.code.rank)
    else:
        tier = earned
    previous = reading.tier or TierCode.BLUE
    if tier.code is previous and reading.since is not None:
        since = reading.since
    elif tier.code.rank < previous.rank:
        since = this_month
    elif tier.code is previous:
        since = reading.joined_at or now
    else:
        since = now
    next_month = add_months(this_month, 1)
    next_tier = tiers[tier.code.rank + 1] if tier.code.rank + 1 < len(tiers) else None
    kept = tier_for_spend(reading.kept, tiers)
    return TierStatus(
        member_id=reading.member_id,
        tier=tier,
        since=since,
        window_starts_at=add_months(this_month, -settings.tier_window_full_months),
        window_ends_at=next_month,
        window_spend=reading.spend,
        next_tier=next_tier,
        spend_to_next_tier=None
        if next_tier is None
        else max(Decimal(0), next_tier.threshold - reading.spend),
        lapses_at=next_month if kept.code.rank < tier.code.rank else None,
        stored_tier=reading.tier,
        stored_month=reading.month,
    )


def _cents(value: object) -> Decimal:
    return (Decimal(int(value)) * CENTS) if value is not None else Decimal("0.00")  # type: ignore[call-overload]


async def _read(member_ids: list[int], *, now: datetime, settings: Settings) -> list[_Reading]:
    """The members' stored tier rows and window spends, in one statement.

    Spend is the one place that says what counts: purchase totals inside the window (from the
    member's `counted_from`, set when they rejoin), summed in cents so both databases add
    exactly. `kept` is the part that stays in the window when it next moves. Nothing bounds
    the window above: a receipt committed by another till while this one waited for the
    member's lock counts, whatever the clocks said (tills may be minutes ahead).
    """
    if not member_ids:
        return []
    client = MemberTier._meta.db  # noqa: SLF001 (Tortoise metadata)
    parameters = Parameters(client)
    this_month = month_start(now)

    def at(value: datetime) -> str:
        return parameters.mark(
            Purchase._meta.fields_map["occurred_at"].to_db_value(value, Purchase)  # noqa: SLF001
        )

    # Spend is what was bought less what came back (see bff.loyalty.returns).
    cents = "CAST(ROUND((p.total - p.returned_total) * 100) AS BIGINT)"
    kept_from = at(add_months(this_month, 1 - settings.tier_window_full_months))
    window_from = at(add_months(this_month, -settings.tier_window_full_months))
    members = ", ".join(parameters.mark(member_id) for member_id in member_ids)
    rows = await client.execute_query_dict(
        f"""
        SELECT m.id AS member_id, m.program_joined_at AS joined_at, t.tier AS tier,
          t.since AS since, t.evaluated_month AS evaluated_month,
          SUM({cents}) AS spend,
          SUM(CASE WHEN p.occurred_at >= {kept_from} THEN {cents} END) AS kept
        FROM member m
        LEFT JOIN member_tier t ON t.member_id = m.id
        LEFT JOIN purchase p ON p.member_id = m.id
          AND p.occurred_at >= {window_from}
          AND (t.counted_from IS NULL OR p.occurred_at >= t.counted_from)
        WHERE m.id IN ({members})
        GROUP BY m.id, m.program_joined_at, t.tier, t.since, t.evaluated_month
        """,  # noqa: S608 (every value is a parameter)
        parameters.values,
    )
    return [_reading(row) for row in rows]


def _reading(row: dict[str, Any]) -> _Reading:
    return _Reading(
        member_id=int(row["member_id"]),
        joined_at=python_time(Member, "program_joined_at", row["joined_at"]),
        tier=TierCode(row["tier"]) if row["tier"] is not None else None,
        since=python_time(MemberTier, "since", row["since"]),
        month=python_time(MemberTier, "evaluated_month", row["evaluated_month"]),
        spend=_cents(row["spend"]),
        kept=_cents(row["kept"]),
    )


def _changed(status: TierStatus) -> bool:
    """Whether the evaluation moved the tier away from the stored (or the starting) one."""
    return status.tier.code is not (status.stored_tier or TierCode.BLUE)


async def read_tiers(
    *, member_ids: list[int], now: datetime, settings: Settings
) -> dict[int, TierStatus]:
    """The tiers of many members as of `now`, in one statement. A member whose tier changed
    since it was stored (the window moved, or a linked card brought spend) takes `reevaluate`
    under the member lock instead, which records the change; that happens once per change."""
    statuses = {}
    for reading in await _read(member_ids, now=now, settings=settings):
        status = _evaluate(reading, now=now, settings=settings)
        if _changed(status):
            async with events.transaction():
                await PointsOwner(member_id=reading.member_id).lock()
                status = await reevaluate(member_id=reading.member_id, now=now, settings=settings)
        statuses[reading.member_id] = status
    return statuses


async def reevaluate(*, member_id: int, now: datetime, settings: Settings) -> TierStatus:
    """Evaluate the member's tier as of `now` and store it, recording a change (history row
    and a TIER_CHANGED event). Call inside `events.transaction()` holding the member row lock,
    so concurrent purchases take turns and none loses its evaluation.

    A change that lowers the spend (a return) calls it before and after: the first call fixes
    the month's tier from the spend before the change, so the second cannot drop it."""
    (reading,) = await _read([member_id], now=now, settings=settings)
    status = _evaluate(reading, now=now, settings=settings)
    this_month = month_start(now)
    if reading.tier is None:
        await MemberTier.create(
            member_id=member_id,
            tier=status.tier.code,
            since=status.since,
            evaluated_month=this_month,
        )
    elif status.tier.code is not reading.tier or reading.month != this_month:
        await MemberTier.filter(member_id=member_id).update(
            tier=status.tier.code, since=status.since, evaluated_month=this_month
        )
    if _changed(status):
        await _record_change(
            member_id=member_id,
            from_tier=reading.tier or TierCode.BLUE,
            to_tier=status.tier.code,
            at=status.since,
            spend=status.window_spend,
        )
    return status


async def reset_tier(*, member_id: int, now: datetime) -> None:
    """Opting out or rejoining: back to the lowest tier, counting spend from `now` only. Call
    inside `events.transaction()` holding the member row lock."""
    stored = await MemberTier.get_or_none(member_id=member_id)
    if stored is None:
        await MemberTier.create(
            member_id=member_id,
            tier=TierCode.BLUE,
            since=now,
            evaluated_month=month_start(now),
            counted_from=now,
        )
        return
    await MemberTier.filter(member_id=member_id).update(
        tier=TierCode.BLUE, since=now, evaluated_month=month_start(now), counted_from=now
    )
    if stored.tier is not TierCode.BLUE:
        await _record_change(
            member_id=member_id,
            from_tier=stored.tier,
            to_tier=TierCode.BLUE,
            at=now,
            spend=Decimal("0.00"),
        )


async def _record_change(
    *, member_id: int, from_tier: TierCode, to_tier: TierCode, at: datetime, spend: Decimal
) -> None:
    """The one place a tier change is recorded and announced: notifications subscribe to the
    TIER_CHANGED event (published after the commit)."""
    await TierChange.create(
        member_id=member_id, from_tier=from_tier, to_tier=to_tier, changed_at=at, window_spend=spend
    )
    events.publish_after_commit(events.tier_changed(member_id))
    await outbox.enqueue(
        member_id=member_id, kind=MessageKind.TIER_CHANGED, params={"tier": to_tier.value}
    )


async def tier_history(*, member_id: int) -> list[TierChange]:
    """The member's tier changes, oldest first (for the data export)."""
    return await TierChange.filter(member_id=member_id).order_by("changed_at", "id")


async def erase_member(*, member_id: int) -> None:
    """Closing an account, tiers' part: the tier and its history go."""
    await TierChange.filter(member_id=member_id).delete()
    await MemberTier.filter(member_id=member_id).delete()
