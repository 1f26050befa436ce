"""Housekeeping: delete identity rows that can never be used again (`bff prune`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tortoise.expressions import Q

from bff.identity.models import Session, ThrottleCounter, TwoFactorChallenge
from bff.identity.sessions import live_sessions

if TYPE_CHECKING:
    from bff.settings import Settings


@dataclass(frozen=True)
class Pruned:
    """How many rows of each kind were deleted."""

    sessions: int
    two_factor_challenges: int
    throttle_counters: int


async def prune(*, settings: Settings, now: datetime | None = None) -> Pruned:
    """Delete sessions that ended (not `live_sessions`: revoked, past their absolute lifetime,
    idle too long or of a closed account), two-factor challenges that were used or expired, and
    throttle counters idle longer than THROTTLE_WINDOW (they count from zero again anyway; Redis
    counters expire by themselves).

    Live sessions, pending challenges and counters still inside their window are kept.
    """
    now = now or datetime.now(UTC)
    sessions = await Session.filter(~live_sessions(now=now, settings=settings)).delete()
    challenges = await TwoFactorChallenge.filter(
        Q(used_at__isnull=False) | Q(expires_at__lte=now)
    ).delete()
    counters = await ThrottleCounter.filter(updated_at__lt=now - settings.throttle_window).delete()
    return Pruned(sessions=sessions, two_factor_challenges=challenges, throttle_counters=counters)
