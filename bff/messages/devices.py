"""Push devices: registered by a session, listed and ended with it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from bff.errors import DomainError, ErrorCode
from bff.identity.models import Session
from bff.identity.sessions import live_sessions
from bff.identity.validation import clean_text
from bff.messages.models import PushDevice, PushPlatform
from bff.settings import Settings

TOKEN_MAX_LENGTH = 512
NAME_MAX_LENGTH = 100


async def register_push_device(
    *, member_id: int, session_id: int, platform: PushPlatform, token: str, name: str | None
) -> PushDevice:
    """This session's device receives push; a token registered before moves here."""
    token = token.strip()
    if not token or len(token) > TOKEN_MAX_LENGTH or not token.isprintable():
        raise DomainError(ErrorCode.INVALID_INPUT, "This push token is not valid.", field="token")
    name = clean_text(name or "", field="name", max_length=NAME_MAX_LENGTH, label="name") or None
    now = datetime.now(UTC)
    async with in_transaction():
        # One row per token: the app reinstalled, or the phone passed on to another member.
        await PushDevice.filter(token=token).delete()
        return await PushDevice.create(
            member_id=member_id,
            session_id=session_id,
            platform=platform,
            token=token,
            name=name,
            created_at=now,
            last_seen_at=now,
        )


async def unregister_push_device(*, member_id: int, device_id: int) -> None:
    deleted = await PushDevice.filter(id=device_id, member_id=member_id).delete()
    if not deleted:
        raise DomainError(ErrorCode.NOT_FOUND, "You have no device with this id.", field="deviceId")


async def live_devices(
    *, member_ids: Sequence[int], settings: Settings, now: datetime | None = None
) -> dict[int, list[PushDevice]]:
    """Each member's devices whose session still lives, newest first."""
    now = now or datetime.now(UTC)
    live = Session.filter(live_sessions(now=now, settings=settings), member_id__in=list(member_ids))
    devices = await PushDevice.filter(session_id__in=Subquery(live.values("id"))).order_by(
        "-created_at", "-id"
    )
    found: dict[int, list[PushDevice]] = {member_id: [] for member_id in member_ids}
    for device in devices:
        found[device.member_id].append(device)
    return found
