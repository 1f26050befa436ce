"""The daily look at points about to expire: one notice per member and expiry date."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from bff.loyalty import ledger
from bff.loyalty.models import PointsLot
from bff.outbox import MessageKind, OutboxMessage
from bff.settings import Settings


async def queue_expiring_points(*, now: datetime, settings: Settings) -> int:
    """Queue POINTS_EXPIRING for each member and date on which available points expire within
    POINTS_EXPIRING_SOON; a date already announced is skipped (its dedup key exists), so
    running it again, or on several workers at once, sends nothing twice. Returns how many
    were new."""
    lots = await PointsLot.filter(
        ledger.expiring(now, within=settings.points_expiring_soon).q(), member_id__isnull=False
    ).values_list("member_id", "expires_at", "remaining")
    totals: dict[tuple[int, date], int] = defaultdict(int)
    for member_id, expires_at, remaining in lots:
        totals[int(member_id), expires_at.date()] += int(remaining)
    keys = {f"points-expiring:{member_id}:{day.isoformat()}" for member_id, day in totals}
    rows = await OutboxMessage.filter(dedup_key__in=list(keys)).values("dedup_key")
    known = {str(row["dedup_key"]) for row in rows}
    fresh = [
        OutboxMessage(
            member_id=member_id,
            kind=MessageKind.POINTS_EXPIRING.value,
            params={"points": points, "date": day.isoformat()},
            dedup_key=f"points-expiring:{member_id}:{day.isoformat()}",
            created_at=now,
        )
        for (member_id, day), points in sorted(totals.items())
        if f"points-expiring:{member_id}:{day.isoformat()}" not in known
    ]
    if fresh:
        # A concurrent scan may have written some since: the unique key drops those.
        await OutboxMessage.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)
