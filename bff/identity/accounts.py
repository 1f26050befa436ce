"""Registration, login (with its second factor), logout, password change, sessions, and the
identity's part of closing an account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from bff import events, metrics, outbox
from bff.errors import DomainError, DomainErrors, ErrorCode
from bff.identity import two_factor
from bff.identity.devices import device_token, is_known_device
from bff.identity.email_tokens import queue_email_verification
from bff.identity.models import (
    EmailToken,
    Language,
    Member,
    ProgramStatus,
    RecoveryCode,
    Session,
    SessionTransport,
    TwoFactorChallenge,
)
from bff.identity.passwords import (
    check_member_password,
    hash_password,
    validate_new_password,
    verify_and_maybe_rehash,
)
from bff.identity.sessions import (
    clip_user_agent,
    end_other_sessions,
    end_session,
    invalid_credentials,
    start_session,
)
from bff.identity.throttle import Factor, throttle_for
from bff.identity.tokens import new_token, token_hash
from bff.identity.validation import clean_member_fields, normalise_email
from bff.outbox import MessageKind
from bff.settings import Settings


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in step: a session (and its token) or a two-factor challenge."""

    member: Member | None = None
    session: Session | None = None
    token: str | None = None
    challenge: str | None = None
    # After a right password: the device token to keep (bff.identity.devices).
    device: str | None = None


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    first_name: str
    last_name: str
    phone: str | None = None
    company_name: str | None = None
    tax_id: str | None = None
    accept_terms: bool = False
    language: Language = Language.RU


def _clean_registration(data: Registration) -> dict[str, Any]:
    """Every field checked; all problems raised together as DomainErrors."""
    terms = DomainError(
        ErrorCode.TERMS_NOT_ACCEPTED, "Accept the terms to register.", field="acceptTerms"
    )
    return clean_member_fields(
        {
            "email": data.email,
            "first_name": data.first_name,
            "last_name": data.last_name,
            "phone": data.phone,
            "company_name": data.company_name,
            "tax_id": data.tax_id,
        },
        more_errors=() if data.accept_terms else (terms,),
    )


async def register(
    *,
    data: Registration,
    transport: SessionTransport,
    user_agent: str | None,
    client_ip: str,
    settings: Settings,
) -> SignIn:
    """A new ENROLLED member, signed in; terms version and time recorded.

    Every attempt counts against the client address, successful ones too: each costs a
    password hash, and EMAIL_TAKEN tells whether an email has an account.
    """
    await throttle_for(settings).check(factor=Factor.REGISTRATION, account=None, address=client_ip)
    try:
        cleaned = _clean_registration(data)
    except DomainErrors as invalid:
        # The password's problem too, so that one round trip shows every field's.
        raw = (data.email, data.first_name, data.last_name, data.company_name)
        try:
            await validate_new_password(data.password, user_inputs=tuple(v for v in raw if v))
        except DomainError as weak:
            invalid.errors.append(weak)
        raise
    user_inputs = tuple(str(value) for value in cleaned.values() if value)
    await validate_new_password(data.password, user_inputs=user_inputs)
    password_hash = await hash_password(data.password, settings=settings)
    now = datetime.now(UTC)
    # No preferences row: the defaults stand until the member first changes one (profile).
    try:
        async with events.transaction():
            member = await Member.create(
                **cleaned,
                password_hash=password_hash,
                program_status=ProgramStatus.ENROLLED,
                program_joined_at=now,
                terms_version=settings.terms_version,
                terms_accepted_at=now,
                language=data.language.value,
            )
            await queue_email_verification(member=member, settings=settings)
    except IntegrityError:
        raise DomainError(
            ErrorCode.EMAIL_TAKEN, "An account with this email already exists.", field="email"
        ) from None
    session, token = await start_session(
        member_id=member.id, transport=transport, user_agent=user_agent, settings=settings
    )
    # The device that registered knows the password: its first sign-in is not a new device.
    device = device_token(str(cleaned["email"]), settings)
    return SignIn(member=member, session=session, token=token, device=device)


def _login_account(email: str) -> tuple[str, str | None]:
    """(the account the throttle counts, the email to look up: None when it is not one).

    An input that does not normalise matches no member, so it is never sent to the database,
    which would refuse a NUL byte, an unpaired surrogate or an over-long value with an error.
    """
    try:
        normalised = normalise_email(email)
    except DomainError:
        return email.strip().lower(), None
    return normalised, normalised


async def login(
    *,
    email: str,
    password: str,
    transport: SessionTransport,
    user_agent: str | None,
    client_ip: str,
    settings: Settings,
    device: str | None = None,
) -> SignIn:
    """A session, or a two-factor challenge; unknown email and wrong password answer alike.

    `device` is the token of an earlier sign-in on this device: a known device is not held back
    by the account's failures from elsewhere (bff.identity.devices)."""
    account, lookup = _login_account(email)
    throttle = throttle_for(settings)
    known = is_known_device(device, account, settings)
    try:
        await throttle.check(
            factor=Factor.PASSWORD, account=account, address=client_ip, known_device=known
        )
    except DomainError:
        metrics.SIGN_INS.labels(outcome="throttled").inc()
        raise
    member = None
    if lookup is not None:
        member = await Member.get_or_none(email=lookup, closed_at__isnull=True)
    ok, new_hash = await verify_and_maybe_rehash(
        password_hash=member.password_hash if member else None,
        password=password,
        settings=settings,
    )
    if member is None or not ok:
        metrics.SIGN_INS.labels(outcome="invalid").inc()
        await throttle.record_failure(
            factor=Factor.PASSWORD, account=account, address=client_ip, known_device=known
        )
        raise invalid_credentials()
    metrics.SIGN_INS.labels(outcome="ok").inc()
    await throttle.record_success(factor=Factor.PASSWORD, account=account, address=client_ip)
    if new_hash is not None:
        await Member.filter(id=member.id).update(password_hash=new_hash)
    device = device if known else device_token(account, settings)
    if member.totp_enabled_at is not None:
        return SignIn(
            challenge=await _new_challenge(
                member=member,
                transport=transport,
                user_agent=user_agent,
                new_device=not known,
                settings=settings,
            ),
            device=device,
        )
    session, token = await start_session(
        member_id=member.id,
        transport=transport,
        user_agent=user_agent,
        settings=settings,
        notify_new_device=not known,
    )
    return SignIn(member=member, session=session, token=token, device=device)


async def _new_challenge(
    *,
    member: Member,
    transport: SessionTransport,
    user_agent: str | None,
    new_device: bool,
    settings: Settings,
) -> str:
    now = datetime.now(UTC)
    challenge = new_token()
    await TwoFactorChallenge.create(
        member=member,
        token_hash=token_hash(challenge),
        transport=transport,
        user_agent=clip_user_agent(user_agent),
        new_device=new_device,
        created_at=now,
        expires_at=now + settings.two_factor_challenge_ttl,
    )
    return challenge


async def verify_two_factor(
    *, challenge: str, code: str, client_ip: str, settings: Settings
) -> SignIn:
    """Complete a login challenge with a TOTP code or a recovery code; a session on success."""
    now = datetime.now(UTC)
    pending = await TwoFactorChallenge.get_or_none(
        token_hash=token_hash(challenge), used_at__isnull=True, expires_at__gt=now
    ).select_related("member")
    if pending is None or pending.member.closed_at is not None:
        raise DomainError(
            ErrorCode.INVALID_CODE, "This sign-in has expired. Sign in again.", field="challenge"
        )
    member = pending.member
    await accept_second_factor(member=member, code=code, client_ip=client_ip, settings=settings)
    used = await TwoFactorChallenge.filter(id=pending.id, used_at__isnull=True).update(used_at=now)
    if not used:
        raise DomainError(
            ErrorCode.INVALID_CODE, "This sign-in has expired. Sign in again.", field="challenge"
        )
    session, token = await start_session(
        member_id=member.id,
        transport=pending.transport,
        user_agent=pending.user_agent,
        settings=settings,
        notify_new_device=pending.new_device,
    )
    return SignIn(member=member, session=session, token=token)


async def accept_second_factor(
    *, member: Member, code: str, client_ip: str, settings: Settings, field: str = "code"
) -> None:
    """Spend a TOTP code (once: its step must be newer than the last) or a recovery code."""
    code = code.strip()
    factor = Factor.TOTP if two_factor.is_totp_shaped(code) else Factor.RECOVERY_CODE
    account = f"member:{member.id}"
    throttle = throttle_for(settings)
    await throttle.check(factor=factor, account=account, address=client_ip)
    if factor is Factor.TOTP:
        accepted = await _spend_totp(member=member, code=code, settings=settings)
    else:
        accepted = await _spend_recovery_code(member=member, code=code, settings=settings)
    if not accepted:
        await throttle.record_failure(factor=factor, account=account, address=client_ip)
        raise DomainError(ErrorCode.INVALID_CODE, "This code is not valid.", field=field)
    await throttle.record_success(factor=factor, account=account, address=client_ip)


async def _spend_totp(*, member: Member, code: str, settings: Settings) -> bool:
    secret = two_factor.decrypt_secret(member.totp_secret or "", settings=settings)
    step = two_factor.matching_step(secret, code) if secret else None
    if step is None:
        return False
    # Conditional UPDATE: of two requests with the same code only one moves the step forward.
    newer = Q(totp_last_step__isnull=True) | Q(totp_last_step__lt=step)
    moved = await Member.filter(Q(id=member.id) & newer).update(totp_last_step=step)
    return bool(moved)


async def _spend_recovery_code(*, member: Member, code: str, settings: Settings) -> bool:
    used = await RecoveryCode.filter(
        member_id=member.id,
        code_hash=two_factor.recovery_code_hash(code, settings=settings),
        used_at__isnull=True,
    ).update(used_at=datetime.now(UTC))
    return bool(used)


async def confirm_password(
    *, member: Member, password: str, client_ip: str, settings: Settings, field: str = "password"
) -> None:
    """Re-authentication for a sensitive change, throttled like a login."""
    throttle = throttle_for(settings)
    account = member.email or f"member:{member.id}"
    await throttle.check(factor=Factor.PASSWORD, account=account, address=client_ip)
    if not await check_member_password(member, password, settings=settings):
        await throttle.record_failure(factor=Factor.PASSWORD, account=account, address=client_ip)
        raise DomainError(
            ErrorCode.INVALID_CREDENTIALS, "The password is not correct.", field=field
        )
    await throttle.record_success(factor=Factor.PASSWORD, account=account, address=client_ip)


async def change_password(
    *,
    member: Member,
    current_password: str,
    new_password: str,
    current_session_id: int | None,
    client_ip: str,
    settings: Settings,
) -> Member:
    """A new password; every other session of the member ends."""
    await confirm_password(
        member=member,
        password=current_password,
        client_ip=client_ip,
        settings=settings,
        field="currentPassword",
    )
    user_inputs = tuple(v for v in (member.email, member.first_name, member.last_name) if v)
    await validate_new_password(new_password, field="newPassword", user_inputs=user_inputs)
    member.password_hash = await hash_password(new_password, settings=settings)
    async with events.transaction():
        await Member.filter(id=member.id).update(password_hash=member.password_hash)
        await end_other_sessions(member_id=member.id, keep_session_id=current_session_id)
        await outbox.enqueue(member_id=member.id, kind=MessageKind.PASSWORD_CHANGED)
    return member


async def logout(*, session_id: int) -> None:
    await end_session(session_id=session_id)


async def revoke_session(*, member_id: int, session_id: int) -> None:
    """End one of the member's own sessions; NOT_FOUND for anyone else's."""
    async with events.transaction():
        revoked = await Session.filter(
            id=session_id, member_id=member_id, revoked_at__isnull=True
        ).update(revoked_at=datetime.now(UTC))
        if not revoked:
            raise DomainError(ErrorCode.NOT_FOUND, "No session has this id.", field="sessionId")
        events.publish_after_commit(
            events.session_revoked(member_id=member_id, session_id=session_id)
        )


async def erase_member(*, member_id: int, now: datetime) -> None:
    """Closing an account, identity's part: blank every personal field, mark the row closed,
    delete sessions, two-factor challenges and recovery codes. Call inside the closing
    `events.transaction()`, under the member row lock."""
    await Member.filter(id=member_id).update(
        email=None,
        password_hash=None,
        first_name="",
        last_name="",
        phone=None,
        company_name=None,
        tax_id=None,
        totp_secret=None,
        totp_pending_secret=None,
        totp_enabled_at=None,
        totp_last_step=None,
        closed_at=now,
        updated_at=now,
    )
    for personal in (Session, TwoFactorChallenge, RecoveryCode, EmailToken):
        await personal.filter(member_id=member_id).delete()
    await outbox.erase_member(member_id=member_id)
    events.publish_after_commit(events.session_revoked(member_id=member_id))
