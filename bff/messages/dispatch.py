"""Who gets what: an outbox message becomes a notification in the bell and one delivery per
channel the member's switches allow, in one transaction, once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from tortoise.expressions import Subquery

from bff import events, outbox
from bff.identity.email_flows import issue_password_reset
from bff.identity.models import Member, Session
from bff.identity.sessions import live_sessions
from bff.messages.models import PushDevice
from bff.messages.texts import language_of, render
from bff.outbox import MessageKind, OutboxMessage
from bff.outbox.models import Delivery, DeliveryChannel, Notification
from bff.profile.models import Preferences
from bff.profile.services import default_preferences
from bff.settings import Settings


class Category(StrEnum):
    SERVICE = "SERVICE"  # the notify* switches
    MARKETING = "MARKETING"  # the marketing* consents; mail only to a verified address
    SECURITY = "SECURITY"  # always, every channel
    LINK = "LINK"  # a one-time link: mail to one address only, never in the bell


CATEGORY: dict[MessageKind, Category] = {
    MessageKind.POINTS_CREDITED: Category.SERVICE,
    MessageKind.POINTS_EXPIRING: Category.SERVICE,
    MessageKind.CARD_STATUS_CHANGED: Category.SERVICE,
    MessageKind.TIER_CHANGED: Category.SERVICE,
    MessageKind.COUPON_ISSUED: Category.SERVICE,
    MessageKind.PERSONAL_OFFER: Category.MARKETING,
    **dict.fromkeys(outbox.SECURITY_KINDS, Category.SECURITY),
    MessageKind.EMAIL_VERIFICATION: Category.LINK,
    MessageKind.PASSWORD_RESET: Category.LINK,
    MessageKind.EMAIL_CHANGE_CONFIRMATION: Category.LINK,
}


def wants_email(category: Category, preferences: Preferences, member: Member) -> bool:
    if category is Category.SERVICE:
        return preferences.notify_by_email
    if category is Category.MARKETING:
        return preferences.marketing_by_email and member.email_verified_at is not None
    return True


def wants_push(category: Category, preferences: Preferences) -> bool:
    if category is Category.SERVICE:
        return preferences.notify_by_push
    if category is Category.MARKETING:
        return preferences.marketing_by_push
    return category is Category.SECURITY


async def _recipient(message: OutboxMessage, *, settings: Settings) -> Member | None:
    """The open account the message is for; a reset request finds it (and its token) here."""
    if MessageKind(message.kind) is MessageKind.PASSWORD_RESET:
        email = str(message.params.get("email", ""))
        # The address is no longer needed in the outbox, whatever the answer.
        await OutboxMessage.filter(id=message.id).update(params={})
        issued = await issue_password_reset(email=email, settings=settings)
        if issued is None:
            return None
        member, token = issued
        message.params = {"secret": outbox.seal_secret(token, settings=settings)}
        return member
    if message.member_id is None:
        return None
    return await Member.get_or_none(id=message.member_id, closed_at__isnull=True)


async def dispatch(message_id: int, *, settings: Settings, now: datetime) -> Notification | None:
    """Fan one outbox message out (no-op when another relay run already did); the bell's
    notification, if any, is announced after the commit."""
    async with events.transaction():
        taken = await OutboxMessage.filter(id=message_id, dispatched_at__isnull=True).update(
            dispatched_at=now
        )
        message = await OutboxMessage.get_or_none(id=message_id)
        if not taken or message is None:
            return None
        member = await _recipient(message, settings=settings)
        if member is None:
            return None
        kind = MessageKind(message.kind)
        category = CATEGORY[kind]
        params = dict(message.params)
        language = language_of(member.language)
        preferences = await Preferences.get_or_none(member_id=member.id) or default_preferences(
            member_id=member.id, registered_at=member.created_at
        )
        notification = None
        if category is not Category.LINK:
            text = render(kind, language, params)
            notification = await Notification.create(
                member_id=member.id,
                message_id=message.id,
                kind=kind.value,
                title=text.title,
                body=text.body,
                created_at=now,
            )
            events.publish_after_commit(
                events.notification_received(member_id=member.id, notification_id=notification.id)
            )

        def delivery(channel: DeliveryChannel, address: str) -> Delivery:
            return Delivery(
                message_id=message.id,
                member_id=member.id,
                channel=channel,
                address=address,
                kind=kind.value,
                language=language,
                params=params,
                created_at=now,
            )

        deliveries = []
        address = str(params.get("to") or member.email or "")
        if address and wants_email(category, preferences, member):
            deliveries.append(delivery(DeliveryChannel.EMAIL, address))
        if settings.push_url and wants_push(category, preferences):
            live = Session.filter(live_sessions(now=now, settings=settings), member_id=member.id)
            tokens = await PushDevice.filter(
                member_id=member.id, session_id__in=Subquery(live.values("id"))
            ).values_list("token", flat=True)
            deliveries.extend(delivery(DeliveryChannel.PUSH, str(token)) for token in tokens)
        if deliveries:
            await Delivery.bulk_create(deliveries)
    return notification
