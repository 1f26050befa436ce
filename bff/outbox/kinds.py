"""Every kind of message a member can be sent."""

from __future__ import annotations

from enum import StrEnum


class MessageKind(StrEnum):
    """The schema's `NotificationKind` values, then the mails that carry a one-time link."""

    POINTS_CREDITED = "POINTS_CREDITED"
    POINTS_EXPIRING = "POINTS_EXPIRING"
    CARD_STATUS_CHANGED = "CARD_STATUS_CHANGED"
    PERSONAL_OFFER = "PERSONAL_OFFER"
    TIER_CHANGED = "TIER_CHANGED"
    COUPON_ISSUED = "COUPON_ISSUED"
    NEW_SIGN_IN = "NEW_SIGN_IN"
    PASSWORD_CHANGED = "PASSWORD_CHANGED"  # noqa: S105 (a kind name)
    TWO_FACTOR_DISABLED = "TWO_FACTOR_DISABLED"
    EMAIL_CHANGE_REQUESTED = "EMAIL_CHANGE_REQUESTED"
    # Email only, to one address, never in the bell: they carry a one-time token.
    EMAIL_VERIFICATION = "EMAIL_VERIFICATION"
    PASSWORD_RESET = "PASSWORD_RESET"  # noqa: S105 (a kind name)
    EMAIL_CHANGE_CONFIRMATION = "EMAIL_CHANGE_CONFIRMATION"


# Always sent, whatever the member's switches.
SECURITY_KINDS = frozenset(
    {
        MessageKind.NEW_SIGN_IN,
        MessageKind.PASSWORD_CHANGED,
        MessageKind.TWO_FACTOR_DISABLED,
        MessageKind.EMAIL_CHANGE_REQUESTED,
    }
)
