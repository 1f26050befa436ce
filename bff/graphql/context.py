"""The per-request context: settings, request id, the caller's session and the loaders."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry

from bff.graphql.errors import UnauthenticatedError
from bff.graphql.loaders import Loader
from bff.graphql.session import session_token
from bff.identity.sessions import authenticate_token

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket

    from bff.identity.models import Member, Session
    from bff.identity.sessions import Authentication
    from bff.settings import Settings

L = TypeVar("L", bound=Loader[Any, Any])


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | None
    settings: Settings
    request_id: str
    client_ip: str
    # Websockets: the graphql-transport-ws connection_init payload (Strawberry fills it in).
    connection_params: dict[str, object] | None = None
    # Filled lazily by `authentication()`: one session lookup per request at most.
    _authentication: Authentication | None = None
    _authenticated: bool = False
    # Resolvers run concurrently: the first one starts the session lookup and the others await
    # the same task, so they all resume in one tick and their loader calls still batch.
    _authenticating: asyncio.Task[Authentication | None] | None = None
    _loaders: dict[type[Loader[Any, Any]], Loader[Any, Any]] = field(
        default_factory=dict, init=False
    )

    def loader(self, loader_class: type[L]) -> L:
        """This request's loader of that class, made on first use."""
        loader = self._loaders.get(loader_class)
        if not isinstance(loader, loader_class):
            loader = self._loaders[loader_class] = loader_class(self.settings)
        return loader

    def forget_loaded(self) -> None:
        """Drop every loader and its cache: a websocket's context outlives each event it sends,
        and what is sent for an event must be read now."""
        self._loaders.clear()

    async def authentication(self) -> Authentication | None:
        """The caller's session and member, or None without a valid session."""
        if not self._authenticated:
            if self._authenticating is None:
                self._authenticating = asyncio.ensure_future(self._look_up_session())
            try:
                authentication = await self._authenticating
            finally:
                self._authenticating = None
            if not self._authenticated:
                self._authentication = authentication
                self._authenticated = True
        return self._authentication

    async def _look_up_session(self) -> Authentication | None:
        token = session_token(self)
        return await authenticate_token(token, settings=self.settings) if token else None

    async def member(self) -> Member | None:
        auth = await self.authentication()
        return auth.member if auth else None

    @property
    def signed_in_member(self) -> Member:
        """The member of a field guarded by `IsMember`, which looked the session up.

        UNAUTHENTICATED if the session ended since (a websocket's subscription noticed it).
        """
        if not self._authenticated:
            raise RuntimeError("signed_in_member is for fields with permission_classes=[IsMember]")
        if self._authentication is None:
            raise UnauthenticatedError
        return self._authentication.member

    async def session(self) -> Session | None:
        auth = await self.authentication()
        return auth.session if auth else None

    def remember_authentication(self, authentication: Authentication | None) -> None:
        """Use this session for the rest of the request (a websocket: the whole connection)."""
        self._authentication = authentication
        self._authenticated = True

    def forget_authentication(self) -> None:
        """Drop the cached session, e.g. after logout or a new login in this request."""
        self._authentication = None
        self._authenticated = False


Info = strawberry.Info[Context, None]
