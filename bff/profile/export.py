"""The member's data export: everything the portal holds on them, as one JSON document."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bff.identity.models import Member, Session
from bff.loyalty.models import Card, Coupon, PointsEntry, Purchase, PurchaseReturn
from bff.loyalty.rewards import coupon_status
from bff.loyalty.tiers import tier_history
from bff.profile.models import ConsentEvent, Preferences
from bff.profile.services import default_preferences

EXPORT_FORMAT_VERSION = 1


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def export_member_data(*, member_id: int) -> dict[str, Any]:
    """Profile, preferences, consent history, sessions, cards, purchases, points ledger, tier
    history and coupons."""
    member = await Member.get(id=member_id)
    preferences = await Preferences.get_or_none(member_id=member_id) or default_preferences(
        member_id=member_id, registered_at=member.created_at
    )
    consents = await ConsentEvent.filter(member_id=member_id).order_by("occurred_at", "id")
    sessions = await Session.filter(member_id=member_id).order_by("created_at", "id")
    cards = await Card.filter(member_id=member_id).order_by("linked_at", "id")
    purchases = await Purchase.filter(member_id=member_id).order_by("occurred_at", "id")
    # By key, not joined: the planner hashes the whole card table for a join with a member's
    # purchases (tests/db/test_indexes.py), and a purchase's card may be linked to no one now.
    card_ids = {purchase.card_id for purchase in purchases}
    number_of = {card.id: card.number for card in await Card.filter(id__in=card_ids)}
    receipts = {purchase.id: purchase.receipt_id for purchase in purchases}
    # Only the receipts something came back against (every return adds to returned_total): a
    # handful of keys, looked up by index, rather than every purchase the member made.
    returned = [purchase.id for purchase in purchases if purchase.returned_total > 0]
    returns = await PurchaseReturn.filter(purchase_id__in=returned).order_by("occurred_at", "id")
    entries = await PointsEntry.filter(member_id=member_id).order_by("occurred_at", "id")
    tier_changes = await tier_history(member_id=member_id)
    coupons = await Coupon.filter(member_id=member_id).select_related("reward").order_by("id")
    return {
        "formatVersion": EXPORT_FORMAT_VERSION,
        "exportedAt": datetime.now(UTC).isoformat(),
        "profile": {
            "email": member.email,
            "firstName": member.first_name,
            "lastName": member.last_name,
            "phone": member.phone,
            "companyName": member.company_name,
            "taxId": member.tax_id,
            "programStatus": member.program_status.value,
            "programJoinedAt": _time(member.program_joined_at),
            "termsVersion": member.terms_version,
            "termsAcceptedAt": _time(member.terms_accepted_at),
            "twoFactorEnabled": member.totp_enabled_at is not None,
            "language": member.language,
            "createdAt": _time(member.created_at),
        },
        "preferences": {
            "notifyByEmail": preferences.notify_by_email,
            "notifyBySms": preferences.notify_by_sms,
            "notifyByPush": preferences.notify_by_push,
            "marketingByEmail": preferences.marketing_by_email,
            "marketingBySms": preferences.marketing_by_sms,
            "marketingByPush": preferences.marketing_by_push,
            "updatedAt": _time(preferences.updated_at),
        },
        "marketingConsentHistory": [
            {
                "channel": event.channel.value,
                "granted": event.granted,
                "occurredAt": _time(event.occurred_at),
            }
            for event in consents
        ],
        "sessions": [
            {
                "transport": session.transport.value,
                "createdAt": _time(session.created_at),
                "lastSeenAt": _time(session.last_seen_at),
                "expiresAt": _time(session.expires_at),
                "revokedAt": _time(session.revoked_at),
                "userAgent": session.user_agent,
            }
            for session in sessions
        ],
        "cards": [
            {
                "number": card.number,
                "label": card.label,
                "status": card.status.value,
                "kind": card.kind.value,
                "deactivationReason": card.deactivation_reason.value
                if card.deactivation_reason
                else None,
                "linkedAt": _time(card.linked_at),
                "lastUsedAt": _time(card.last_used_at),
            }
            for card in cards
        ],
        "purchases": [
            {
                "receiptId": purchase.receipt_id,
                "cardNumber": number_of[purchase.card_id],
                "storeId": purchase.store_id,
                "total": str(purchase.total),
                "occurredAt": _time(purchase.occurred_at),
                "pointsEarned": purchase.points_earned,
                "pointsRedeemed": purchase.points_redeemed,
                "returnedTotal": str(purchase.returned_total),
                "pointsReturned": purchase.points_returned,
            }
            for purchase in purchases
        ],
        "returns": [
            {
                "returnId": row.return_id,
                "receiptId": receipts[row.purchase_id],
                "amount": str(row.amount),
                "occurredAt": _time(row.occurred_at),
                "pointsReturned": row.points_returned,
                "pointsShortfall": row.points_shortfall,
            }
            for row in returns
        ],
        "pointsLedger": [
            {
                "kind": entry.kind.value,
                "amount": entry.amount,
                "occurredAt": _time(entry.occurred_at),
                "receiptId": receipts.get(entry.purchase_id) if entry.purchase_id else None,
                "multiplier": str(entry.multiplier) if entry.multiplier is not None else None,
            }
            for entry in entries
        ],
        "tierHistory": [
            {
                "from": change.from_tier.value if change.from_tier else None,
                "to": change.to_tier.value,
                "changedAt": _time(change.changed_at),
                "windowSpend": str(change.window_spend),
            }
            for change in tier_changes
        ],
        "coupons": [
            {
                "code": coupon.code,
                "reward": coupon.reward.title,
                "pointsSpent": coupon.points_spent,
                "status": coupon_status(coupon, now=datetime.now(UTC)),
                "issuedAt": _time(coupon.issued_at),
                "validUntil": _time(coupon.valid_until),
                "usedAt": _time(coupon.used_at),
                "cancelledAt": _time(coupon.cancelled_at),
            }
            for coupon in coupons
        ],
    }
