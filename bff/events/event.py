"""What the bus carries: a small notification naming the member it concerns, never their data."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum


class EventKind(StrEnum):
    POINTS_BALANCE_CHANGED = "POINTS_BALANCE_CHANGED"
    CARD_STATUS_CHANGED = "CARD_STATUS_CHANGED"
    SESSION_REVOKED = "SESSION_REVOKED"
    TIER_CHANGED = "TIER_CHANGED"
    COUPON_CHANGED = "COUPON_CHANGED"
    NOTIFICATION_RECEIVED = "NOTIFICATION_RECEIVED"


@dataclass(frozen=True, slots=True)
class Event:
    """Something changed for `member_id`; subscribers read the new state from the database.

    Events carry ids only: what a subscriber sends is read after the commit, so it is never
    staler than the event, and no personal data passes through Redis.
    """

    kind: EventKind
    member_id: int
    card_id: int | None = None
    # With SESSION_REVOKED: the session that ended, or None for every session of the member.
    session_id: int | None = None
    # With COUPON_CHANGED: the coupon issued, used or cancelled.
    coupon_id: int | None = None
    notification_id: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        data = json.loads(raw)
        return cls(
            kind=EventKind(data["kind"]),
            member_id=int(data["member_id"]),
            card_id=None if data.get("card_id") is None else int(data["card_id"]),
            session_id=None if data.get("session_id") is None else int(data["session_id"]),
            coupon_id=None if data.get("coupon_id") is None else int(data["coupon_id"]),
            notification_id=(
                None if data.get("notification_id") is None else int(data["notification_id"])
            ),
        )


def points_balance_changed(member_id: int) -> Event:
    return Event(EventKind.POINTS_BALANCE_CHANGED, member_id)


def card_status_changed(*, member_id: int, card_id: int) -> Event:
    return Event(EventKind.CARD_STATUS_CHANGED, member_id, card_id=card_id)


def session_revoked(*, member_id: int, session_id: int | None = None) -> Event:
    """One session ended, or (session_id None) every session of the member."""
    return Event(EventKind.SESSION_REVOKED, member_id, session_id=session_id)


def tier_changed(member_id: int) -> Event:
    """The member's tier rose or dropped (bff.loyalty.tiers records every change here)."""
    return Event(EventKind.TIER_CHANGED, member_id)


def coupon_changed(*, member_id: int, coupon_id: int) -> Event:
    """A coupon of the member was issued, used or cancelled."""
    return Event(EventKind.COUPON_CHANGED, member_id, coupon_id=coupon_id)


def notification_received(*, member_id: int, notification_id: int) -> Event:
    return Event(EventKind.NOTIFICATION_RECEIVED, member_id, notification_id=notification_id)
