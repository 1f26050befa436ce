"""Turning two-factor authentication on (after a confirming code) and off (password and code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from bff import events, outbox
from bff.errors import DomainError, ErrorCode
from bff.identity import two_factor
from bff.identity.accounts import accept_second_factor, confirm_password
from bff.identity.models import Member, RecoveryCode
from bff.identity.sessions import end_other_sessions
from bff.identity.throttle import Factor, throttle_for
from bff.outbox import MessageKind
from bff.settings import Settings


@dataclass(frozen=True)
class PendingSetup:
    secret: str
    provisioning_uri: str


def _already_enabled() -> DomainError:
    return DomainError(
        ErrorCode.TWO_FACTOR_ALREADY_ENABLED, "Two-factor authentication is already on."
    )


async def start_setup(*, member: Member, settings: Settings) -> PendingSetup:
    """A new secret, kept pending (encrypted) until a code from it confirms the setup."""
    if member.totp_enabled_at is not None:
        raise _already_enabled()
    secret = two_factor.new_secret()
    member.totp_pending_secret = two_factor.encrypt_secret(secret, settings=settings)
    await Member.filter(id=member.id).update(totp_pending_secret=member.totp_pending_secret)
    return PendingSetup(
        secret=secret,
        provisioning_uri=two_factor.provisioning_uri(
            secret, account=member.email or str(member.id)
        ),
    )


async def confirm_setup(
    *, member: Member, code: str, client_ip: str, settings: Settings
) -> list[str]:
    """Turn 2FA on when `code` matches the pending secret; returns ten recovery codes."""
    if member.totp_enabled_at is not None:
        raise _already_enabled()
    secret = two_factor.decrypt_secret(member.totp_pending_secret or "", settings=settings)
    if secret is None:
        raise DomainError(
            ErrorCode.TWO_FACTOR_NOT_ENABLED, "Start the two-factor setup first.", field="code"
        )
    throttle = throttle_for(settings)
    account = f"member:{member.id}"
    await throttle.check(factor=Factor.TOTP, account=account, address=client_ip)
    step = two_factor.matching_step(secret, code.strip())
    if step is None:
        await throttle.record_failure(factor=Factor.TOTP, account=account, address=client_ip)
        raise DomainError(ErrorCode.INVALID_CODE, "This code is not valid.", field="code")
    await throttle.record_success(factor=Factor.TOTP, account=account, address=client_ip)
    codes = two_factor.new_recovery_codes()
    now = datetime.now(UTC)
    async with in_transaction():
        enabled = await Member.filter(
            id=member.id,
            totp_enabled_at__isnull=True,
            totp_pending_secret=member.totp_pending_secret,
        ).update(
            totp_secret=member.totp_pending_secret,
            totp_pending_secret=None,
            totp_enabled_at=now,
            totp_last_step=step,
        )
        if not enabled:
            raise _already_enabled()
        await RecoveryCode.filter(member_id=member.id).delete()
        await RecoveryCode.bulk_create(
            [
                RecoveryCode(
                    member_id=member.id,
                    code_hash=two_factor.recovery_code_hash(code, settings=settings),
                )
                for code in codes
            ]
        )
    await member.refresh_from_db()
    return codes


async def disable(
    *,
    member: Member,
    password: str,
    code: str,
    current_session_id: int | None,
    client_ip: str,
    settings: Settings,
) -> Member:
    """Turn 2FA off after the password and a code; every other session ends."""
    if member.totp_enabled_at is None:
        raise DomainError(ErrorCode.TWO_FACTOR_NOT_ENABLED, "Two-factor authentication is off.")
    await confirm_password(member=member, password=password, client_ip=client_ip, settings=settings)
    await accept_second_factor(member=member, code=code, client_ip=client_ip, settings=settings)
    async with events.transaction():
        await Member.filter(id=member.id).update(
            totp_secret=None, totp_pending_secret=None, totp_enabled_at=None, totp_last_step=None
        )
        await RecoveryCode.filter(member_id=member.id).delete()
        await end_other_sessions(member_id=member.id, keep_session_id=current_session_id)
        await outbox.enqueue(member_id=member.id, kind=MessageKind.TWO_FACTOR_DISABLED)
    await member.refresh_from_db()
    return member
