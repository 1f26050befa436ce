"""Sessions: starting and ending them, and finding the live one a token belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from bff import events
from bff.errors import DomainError, ErrorCode
from bff.identity.models import Member, Session, SessionTransport, TwoFactorChallenge
from bff.identity.tokens import new_token, token_hash

if TYPE_CHECKING:
    from bff.settings import Settings

# Writing last_seen_at on every request would turn each read into a write; a minute is precise
# enough for the idle timeout.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
USER_AGENT_MAX_LENGTH = 512


@dataclass(frozen=True)
class Authentication:
    member: Member
    session: Session


def live_sessions(*, now: datetime, settings: Settings) -> Q:
    """The sessions that still authenticate at `now`: not revoked, not past their absolute
    lifetime, not idle for SESSION_IDLE_TIMEOUT, and of a member whose account is open.

    The one definition of a live session: sign-in lookups, the member's list of devices and
    `bff prune` (its negation) all filter with it.
    """
    return Q(
        revoked_at__isnull=True,
        expires_at__gt=now,
        last_seen_at__gt=now - settings.session_idle_timeout,
        member__closed_at__isnull=True,
    )


async def authenticate_token(
    token: str, *, settings: Settings, now: datetime | None = None
) -> Authentication | None:
    """The live session and member of a token, or None (unknown, revoked, idle or expired)."""
    now = now or datetime.now(UTC)
    session = (
        await Session.filter(
            live_sessions(now=now, settings=settings), token_hash=token_hash(token)
        )
        .select_related("member")
        .first()
    )
    if session is None:
        return None
    if now - session.last_seen_at >= LAST_SEEN_RESOLUTION:
        await Session.filter(id=session.id).update(last_seen_at=now)
        session.last_seen_at = now
    return Authentication(member=session.member, session=session)


def clip_user_agent(user_agent: str | None) -> str | None:
    """The header as stored: printable characters only (PostgreSQL refuses NUL), bounded."""
    printable = "".join(char for char in user_agent or "" if char.isprintable())
    return printable[:USER_AGENT_MAX_LENGTH] or None


def invalid_credentials() -> DomainError:
    """The one answer for an unknown email, a closed account and a wrong password."""
    return DomainError(ErrorCode.INVALID_CREDENTIALS, "The email or the password is not correct.")


async def start_session(
    *, member_id: int, transport: SessionTransport, user_agent: str | None, settings: Settings
) -> tuple[Session, str]:
    """A new session with a fresh token (returned once, stored only as its hash).

    The member row is locked first: a sign-in that passed its checks while closeAccount ran
    either finds the account closed (INVALID_CREDENTIALS) or is deleted by the closure.
    """
    now = datetime.now(UTC)
    token = new_token()
    async with in_transaction():
        live = await Member.select_for_update().filter(id=member_id, closed_at__isnull=True).first()
        if live is None:
            raise invalid_credentials()
        session = await Session.create(
            member_id=member_id,
            token_hash=token_hash(token),
            transport=transport,
            created_at=now,
            last_seen_at=now,
            expires_at=now + settings.session_absolute_lifetime,
            user_agent=clip_user_agent(user_agent),
        )
    return session, token


async def end_session(*, session_id: int) -> None:
    async with events.transaction():
        ended = await Session.filter(id=session_id, revoked_at__isnull=True).update(
            revoked_at=datetime.now(UTC)
        )
        # Open subscriptions of the session (on any process) close once this commits.
        session = await Session.get_or_none(id=session_id)
        if ended and session is not None:
            revoked = events.session_revoked(member_id=session.member_id, session_id=session_id)
            events.publish_after_commit(revoked)


async def end_other_sessions(*, member_id: int, keep_session_id: int | None) -> None:
    """Revoke every live session of the member but the one making this request, and cancel
    their pending two-factor sign-ins (each is a password check waiting to become a session)."""
    query = Session.filter(member_id=member_id, revoked_at__isnull=True)
    if keep_session_id is not None:
        query = query.exclude(id=keep_session_id)
    async with events.transaction():
        await query.update(revoked_at=datetime.now(UTC))
        await TwoFactorChallenge.filter(member_id=member_id).delete()
        events.publish_after_commit(events.session_revoked(member_id=member_id))
