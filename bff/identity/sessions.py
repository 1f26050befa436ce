"""Sessions: starting and ending them, and finding the live one a token belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from bff import events, outbox
from bff.db.sql import IS_NULL, Parameters, Where
from bff.errors import DomainError, ErrorCode
from bff.identity.models import Member, Session, SessionTransport, TwoFactorChallenge
from bff.identity.tokens import new_token, token_hash
from bff.outbox import MessageKind, OutboxMessage

if TYPE_CHECKING:
    from bff.settings import Settings

# Writing last_seen_at on every request would turn each read into a write; a minute is precise
# enough for the idle timeout.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
USER_AGENT_MAX_LENGTH = 512
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Authentication:
    member: Member
    session: Session


def _live(*, now: datetime, settings: Settings) -> tuple[Where, Where]:
    """A live session's terms on the session row, and on its member's."""
    session = (
        Where.of("revoked_at", IS_NULL)
        & Where.of("expires_at", ">", now)
        & Where.of("last_seen_at", ">", now - settings.session_idle_timeout)
    )
    return session, Where.of("closed_at", IS_NULL)


def live_sessions(*, now: datetime, settings: Settings) -> Q:
    """The sessions that still authenticate at `now`: not revoked, not past their absolute
    lifetime, not idle for SESSION_IDLE_TIMEOUT, and of a member whose account is open.

    The one definition of a live session: sign-in lookups (as SQL, `authenticate_token`), the
    member's list of devices and `bff prune` (its negation) all filter with it.
    """
    session, member = _live(now=now, settings=settings)
    return session.q() & member.q("member__")


def _columns(model: type[Model], alias: str) -> str:
    columns = model._meta.fields_db_projection.values()  # noqa: SLF001 (Tortoise metadata)
    return ", ".join(f'"{alias}"."{column}" AS "{alias}.{column}"' for column in columns)


def _row_of(model: type[M], alias: str, row: dict[str, Any]) -> M:
    prefix = f"{alias}."
    values = {
        key.removeprefix(prefix): value for key, value in row.items() if key.startswith(prefix)
    }
    return model._init_from_db(**values)  # noqa: SLF001 (how Tortoise builds rows)


async def authenticate_token(
    token: str, *, settings: Settings, now: datetime | None = None
) -> Authentication | None:
    """The live session and member of a token, or None (unknown, revoked, idle or expired).

    One hand-written statement (Tortoise's query building cost more than the query): the session
    joined to its member and, on PostgreSQL, the once-a-minute `last_seen_at` update in the same
    statement (a data-modifying CTE); SQLite, which has none, sends that update on its own.
    """
    now = now or datetime.now(UTC)
    client = Session._meta.db  # noqa: SLF001 (Tortoise metadata)
    parameters = Parameters(client)
    session_terms, member_terms = _live(now=now, settings=settings)
    by_token = Where.of("token_hash", "=", token_hash(token)) & session_terms
    # Columns from the models' metadata, every value a parameter.
    found = (
        f"SELECT {_columns(Session, 's')}, {_columns(Member, 'm')} "  # noqa: S608
        'FROM "session" "s" JOIN "member" "m" ON "m"."id" = "s"."member_id" '
        f"WHERE {by_token.sql(Session, parameters, 's')} "
        f"AND {member_terms.sql(Member, parameters, 'm')} LIMIT 1"
    )
    last_seen = Session._meta.fields_map["last_seen_at"]  # noqa: SLF001
    touch = client.capabilities.dialect == "postgres"
    if touch:
        stamp = parameters.mark(last_seen.to_db_value(now, Session))
        stale = parameters.mark(last_seen.to_db_value(now - LAST_SEEN_RESOLUTION, Session))
        found = (
            f"WITH found AS ({found}), touched AS ("  # noqa: S608
            f'UPDATE "session" SET "last_seen_at" = {stamp} FROM found '
            f'WHERE "session"."id" = found."s.id" AND found."s.last_seen_at" <= {stale} '
            'RETURNING "session"."id") SELECT * FROM found'
        )
    rows = await client.execute_query_dict(found, parameters.values)
    if not rows:
        return None
    session, member = _row_of(Session, "s", rows[0]), _row_of(Member, "m", rows[0])
    if now - session.last_seen_at >= LAST_SEEN_RESOLUTION:
        if not touch:
            await Session.filter(id=session.id).update(last_seen_at=now)
        session.last_seen_at = now
    return Authentication(member=member, session=session)


def clip_user_agent(user_agent: str | None) -> str | None:
    """The header as stored: printable characters only (PostgreSQL refuses NUL), bounded."""
    printable = "".join(char for char in user_agent or "" if char.isprintable())
    return printable[:USER_AGENT_MAX_LENGTH] or None


def invalid_credentials() -> DomainError:
    """The one answer for an unknown email, a closed account and a wrong password."""
    return DomainError(ErrorCode.INVALID_CREDENTIALS, "The email or the password is not correct.")


async def start_session(
    *,
    member_id: int,
    transport: SessionTransport,
    user_agent: str | None,
    settings: Settings,
    notify_new_device: bool = False,
) -> tuple[Session, str]:
    """A new session with a fresh token (returned once, stored only as its hash).

    The member row is locked first: a sign-in that passed its checks while closeAccount ran
    either finds the account closed (INVALID_CREDENTIALS) or is deleted by the closure.
    """
    now = datetime.now(UTC)
    token = new_token()
    device = clip_user_agent(user_agent)
    values: dict[str, Any] = {
        "token_hash": token_hash(token),
        "transport": transport,
        "created_at": now,
        "last_seen_at": now,
        "expires_at": now + settings.session_absolute_lifetime,
        "user_agent": device,
    }
    # The caller knows whether the device showed this account's device token
    # (bff.identity.devices); the User-Agent only names the device in the notice.
    notice = (
        outbox.message_values(
            kind=MessageKind.NEW_SIGN_IN, params={"device": (device or "unknown device")[:120]}
        )
        if notify_new_device
        else None
    )
    client = Session._meta.db  # noqa: SLF001 (Tortoise metadata)
    if client.capabilities.dialect == "postgres":
        session = await _insert_session_in_one_statement(client, member_id, values, notice)
    else:
        session = await _insert_session_in_transaction(member_id, values, notice)
    if session is None:
        raise invalid_credentials()
    if notice is not None:
        await outbox.relay_soon()  # a security notice: no waiting for the periodic relay
    return session, token


def _insert_from_live(model: type[Model], values: dict[str, Any], parameters: Parameters) -> str:
    """An INSERT of one `model` row for the member "live" holds (none when it holds none)."""
    fields_map = model._meta.fields_map  # noqa: SLF001 (Tortoise metadata)
    columns = ", ".join(f'"{column}"' for column in ("member_id", *values))
    marks = ", ".join(
        parameters.mark(fields_map[column].to_db_value(value, model))
        for column, value in values.items()
    )
    return (
        f'INSERT INTO "{model._meta.db_table}" ({columns}) '  # noqa: S608, SLF001 (metadata)
        f'SELECT "live"."id", {marks} FROM "live"'
    )


async def _insert_session_in_one_statement(
    client: BaseDBAsyncClient,
    member_id: int,
    values: dict[str, Any],
    notice: dict[str, Any] | None,
) -> Session | None:
    """PostgreSQL: the lock, the notice and the session in one statement (atomic without a
    transaction, so one round trip). A closing account holds the member row: this waits for it,
    then finds the row closed and inserts nothing."""
    parameters = Parameters(client)
    live = (
        'SELECT "id" FROM "member" WHERE "id" = '  # noqa: S608 (a marker, no input in SQL)
        f'{parameters.mark(member_id)} AND "closed_at" IS NULL FOR UPDATE'
    )
    statement = f'WITH "live" AS ({live})'
    if notice is not None:
        statement += f', "notice" AS ({_insert_from_live(OutboxMessage, notice, parameters)})'
    statement += f" {_insert_from_live(Session, values, parameters)} RETURNING *"
    rows = await client.execute_query_dict(statement, parameters.values)
    return Session._init_from_db(**rows[0]) if rows else None  # noqa: SLF001 (how Tortoise builds rows)


async def _insert_session_in_transaction(
    member_id: int, values: dict[str, Any], notice: dict[str, Any] | None
) -> Session | None:
    """SQLite (no data-modifying WITH; one writer at a time): the same in a transaction."""
    async with in_transaction():
        live = await Member.select_for_update().filter(id=member_id, closed_at__isnull=True).first()
        if live is None:
            return None
        if notice is not None:
            await OutboxMessage.create(member_id=member_id, **notice)
        return await Session.create(member_id=member_id, **values)


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
