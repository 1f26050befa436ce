"""Links sent by mail: email verification, password reset and email change.

Each link carries a one-time token (256 bits, stored as SHA-256, `EmailToken`); the raw token
travels sealed in the outbox to the one mail that shows it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from bff import events, outbox
from bff.errors import DomainError, ErrorCode
from bff.identity.accounts import confirm_password
from bff.identity.email_tokens import (
    invalid_token,
    new_email_token,
    queue_email_verification,
    spend_email_token,
)
from bff.identity.models import EmailToken, EmailTokenPurpose, Member
from bff.identity.passwords import hash_password, validate_new_password
from bff.identity.sessions import end_other_sessions
from bff.identity.throttle import Throttle, throttle_for
from bff.identity.tokens import token_hash
from bff.identity.validation import normalise_email
from bff.outbox import MessageKind
from bff.settings import Settings

# Throttle factors of the mails a caller can ask for (counted per account and per address).
VERIFICATION_FACTOR = "email_verification"
RESET_FACTOR = "password_reset"


def _mail_throttle(settings: Settings) -> Throttle:
    """The shared throttle with the mail limits: every request counts, none is ever 'good'."""
    limited = settings.model_copy(
        update={
            "throttle_max_failures": settings.mail_requests_per_window,
            "throttle_free_failures": settings.mail_requests_per_window,
        }
    )
    return Throttle(throttle_for(settings).store, limited)


async def request_email_verification(
    *, member: Member, client_ip: str, settings: Settings
) -> Member:
    """Send the verification link again (throttled); nothing to do once verified."""
    if member.email_verified_at is not None:
        return member
    await _mail_throttle(settings).check(
        factor=VERIFICATION_FACTOR, account=f"member:{member.id}", address=client_ip
    )
    async with events.transaction():
        await queue_email_verification(member=member, settings=settings)
    return member


async def verify_email(*, token: str) -> Member:
    """The address the link was sent to is the member's: mark it verified."""
    async with events.transaction():
        spent = await spend_email_token(token, purpose=EmailTokenPurpose.VERIFY_EMAIL)
        member = await Member.select_for_update().get(id=spent.member_id)
        if member.closed_at is not None or member.email != spent.email:
            raise invalid_token()
        if member.email_verified_at is None:
            member.email_verified_at = datetime.now(UTC)
            await Member.filter(id=member.id).update(email_verified_at=member.email_verified_at)
    return member


async def request_password_reset(*, email: str, client_ip: str, settings: Settings) -> None:
    """Queue a reset for `email`: the same work whether or not it has an account (the worker
    looks it up), so neither the answer nor its time tells. Throttled per address and account."""
    normalised = normalise_email(email)
    await _mail_throttle(settings).check(factor=RESET_FACTOR, account=normalised, address=client_ip)
    async with events.transaction():
        await outbox.enqueue(
            member_id=None, kind=MessageKind.PASSWORD_RESET, params={"email": normalised}
        )


async def issue_password_reset(*, email: str, settings: Settings) -> tuple[Member, str] | None:
    """The worker's half of a reset request: the open account of `email` and a new reset token,
    or None for an unknown address. Inside the worker's dispatch transaction."""
    member = await Member.get_or_none(email=email, closed_at__isnull=True)
    if member is None:
        return None
    token = await new_email_token(
        member_id=member.id,
        purpose=EmailTokenPurpose.RESET_PASSWORD,
        email=None,
        ttl=settings.password_reset_ttl,
    )
    return member, token


async def reset_password(*, token: str, new_password: str, settings: Settings) -> Member:
    """A new password from a reset link: every session ends, two-factor stays on, and the
    member is told (PASSWORD_CHANGED)."""
    found = await EmailToken.get_or_none(
        token_hash=token_hash(token),
        purpose=EmailTokenPurpose.RESET_PASSWORD,
        used_at__isnull=True,
        expires_at__gt=datetime.now(UTC),
    ).select_related("member")
    if found is None or found.member.closed_at is not None:
        raise invalid_token()
    member = found.member
    user_inputs = tuple(v for v in (member.email, member.first_name, member.last_name) if v)
    await validate_new_password(new_password, field="newPassword", user_inputs=user_inputs)
    password_hash = await hash_password(new_password, settings=settings)
    async with events.transaction():
        await spend_email_token(token, purpose=EmailTokenPurpose.RESET_PASSWORD)
        await Member.filter(id=member.id).update(password_hash=password_hash)
        await end_other_sessions(member_id=member.id, keep_session_id=None)
        await outbox.enqueue(member_id=member.id, kind=MessageKind.PASSWORD_CHANGED)
    member.password_hash = password_hash
    return member


async def request_email_change(
    *, member: Member, new_email: str, password: str, client_ip: str, settings: Settings
) -> Member:
    """Send a confirmation link to the new address and a notice to the current one; the
    current address stays (and signs in) until the link is opened."""
    await confirm_password(member=member, password=password, client_ip=client_ip, settings=settings)
    address = normalise_email(new_email, field="newEmail")
    if address == member.email:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "This is already your email address.", field="newEmail"
        )
    if await Member.exists(email=address):
        raise DomainError(
            ErrorCode.EMAIL_TAKEN, "An account with this email already exists.", field="newEmail"
        )
    async with events.transaction():
        token = await new_email_token(
            member_id=member.id,
            purpose=EmailTokenPurpose.CHANGE_EMAIL,
            email=address,
            ttl=settings.email_change_ttl,
        )
        await outbox.enqueue(
            member_id=member.id,
            kind=MessageKind.EMAIL_CHANGE_CONFIRMATION,
            params={"secret": outbox.seal_secret(token, settings=settings), "to": address},
        )
        await outbox.enqueue(
            member_id=member.id,
            kind=MessageKind.EMAIL_CHANGE_REQUESTED,
            params={"to": member.email, "newEmail": address},
        )
    return member


async def confirm_email_change(*, token: str) -> Member:
    """The new address proved: it replaces the old one, verified."""
    now = datetime.now(UTC)
    try:
        async with events.transaction():
            spent = await spend_email_token(token, purpose=EmailTokenPurpose.CHANGE_EMAIL)
            member = await Member.select_for_update().get(id=spent.member_id)
            if member.closed_at is not None:
                raise invalid_token()
            await Member.filter(id=member.id).update(email=spent.email, email_verified_at=now)
    except IntegrityError:
        raise DomainError(
            ErrorCode.EMAIL_TAKEN, "An account with this email already exists.", field="token"
        ) from None
    member.email = spent.email
    member.email_verified_at = now
    return member
