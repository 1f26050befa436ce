"""One-time tokens sent by mail (`EmailToken`): made, spent once, and the verification mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bff import outbox
from bff.errors import DomainError, ErrorCode
from bff.identity.models import EmailToken, EmailTokenPurpose, Member
from bff.identity.tokens import new_token, token_hash
from bff.outbox import MessageKind
from bff.settings import Settings


def invalid_token() -> DomainError:
    return DomainError(
        ErrorCode.INVALID_TOKEN, "This link is not valid or has expired.", field="token"
    )


async def new_email_token(
    *, member_id: int, purpose: EmailTokenPurpose, email: str | None, ttl: timedelta
) -> str:
    token = new_token()
    now = datetime.now(UTC)
    await EmailToken.create(
        member_id=member_id,
        purpose=purpose,
        token_hash=token_hash(token),
        email=email,
        created_at=now,
        expires_at=now + ttl,
    )
    return token


async def spend_email_token(token: str, *, purpose: EmailTokenPurpose) -> EmailToken:
    """Mark the token used (once: a conditional UPDATE) and return it; INVALID_TOKEN else."""
    now = datetime.now(UTC)
    found = await EmailToken.get_or_none(
        token_hash=token_hash(token), purpose=purpose, used_at__isnull=True, expires_at__gt=now
    )
    if found is None:
        raise invalid_token()
    spent = await EmailToken.filter(id=found.id, used_at__isnull=True).update(used_at=now)
    if not spent:
        raise invalid_token()
    return found


async def queue_email_verification(*, member: Member, settings: Settings) -> None:
    """A verification link for the member's current address; inside the caller's transaction."""
    if member.email is None:
        return
    token = await new_email_token(
        member_id=member.id,
        purpose=EmailTokenPurpose.VERIFY_EMAIL,
        email=member.email,
        ttl=settings.email_verification_ttl,
    )
    await outbox.enqueue(
        member_id=member.id,
        kind=MessageKind.EMAIL_VERIFICATION,
        params={"secret": outbox.seal_secret(token, settings=settings), "to": member.email},
    )
