"""The signed-in member's events for one subscription, for as long as their session lives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, NoReturn

from bff.events import EventKind, get_bus
from bff.graphql.errors import UnauthenticatedError
from bff.graphql.realtime.connection import (
    SESSION_ENDED,
    authenticate_connection,
    close_connection,
)

if TYPE_CHECKING:
    from bff.events import Event
    from bff.graphql.context import Context


async def member_events(
    context: Context, *kinds: EventKind, announce: bool = False
) -> AsyncGenerator[Event | None, None]:
    """Events of these kinds for the connection's member, never another member's.

    With `announce`, first yields None once the bus subscription is in place, so the caller can
    send the current state knowing no later change is missed. The session is checked again on
    a SESSION_REVOKED event of the member and every `subscription_session_check_interval`; when
    it has ended (revoked, expired, idle, account closed) the websocket is closed with 4403.
    """
    # Checked again for every subscription, not just at connection_init: a session that ended
    # since then without its event reaching us is noticed here.
    authentication = await authenticate_connection(context)
    if authentication is None:
        await _close_and_wait(context)
    interval = context.settings.subscription_session_check_interval.total_seconds()
    async with get_bus().subscribe(authentication.member.id) as stream:
        if announce:
            context.forget_loaded()
            yield None
        while True:
            try:
                async with asyncio.timeout(interval):
                    event = await anext(stream)
            except TimeoutError:
                event = None
            if event is None or event.kind is EventKind.SESSION_REVOKED:
                if await authenticate_connection(context) is None:
                    await _close_and_wait(context)
                continue
            if event.kind in kinds:
                # A websocket's context lives as long as the connection: fresh loaders, so
                # what is sent for this event is read now, not served from an earlier cache.
                context.forget_loaded()
                yield event


async def _close_and_wait(context: Context) -> NoReturn:
    """Close the websocket (4403), then wait to be cancelled with the connection's operations
    rather than send a `complete` or an error nobody can receive."""
    await close_connection(context, code=SESSION_ENDED, reason="Session ended")
    await asyncio.Event().wait()
    raise UnauthenticatedError  # not reached: the wait ends only by cancellation
