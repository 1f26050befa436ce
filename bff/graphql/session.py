"""The session over HTTP: which token a request presents (bearer header, cookie, websocket
connection_init), the web client's session cookie, and the CSRF rule for requests that carry it.

Identity's `authenticate_token` takes the token alone; everything that reads or writes the HTTP
exchange for it is here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from strawberry.http.websocket_origin import is_same_origin

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection
    from starlette.responses import Response

    from bff.settings import Settings

CROSS_SITE_REFUSAL = (
    "Cookie-authenticated requests are only accepted from the portal's own origins."
)


class Exchange(Protocol):
    """What a session travels in: the request or websocket, the response (None on websockets),
    the websocket's connection_init payload, and the settings (the `Context` is one)."""

    @property
    def request(self) -> HTTPConnection: ...
    @property
    def response(self) -> Response | None: ...
    @property
    def connection_params(self) -> dict[str, object] | None: ...
    @property
    def settings(self) -> Settings: ...


def cookie_name(settings: Settings) -> str:
    return "bff_session" if not settings.is_production else "__Host-bff_session"


def bearer_token(credential: str) -> str | None:
    """The token of `Bearer <token>` (the scheme in any case), or None for anything else."""
    scheme, _, token = credential.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def request_token(connection: HTTPConnection, settings: Settings) -> str | None:
    """The bearer token of the `Authorization` header if there is one, else the session cookie."""
    token = bearer_token(connection.headers.get("authorization", ""))
    return token or connection.cookies.get(cookie_name(settings)) or None


def session_token(exchange: Exchange) -> str | None:
    """The token the caller presents: on a websocket the bearer token of `connection_init`
    ({"authorization": "Bearer <token>"}) when it sends one, else the request's (or websocket
    handshake's) `Authorization` header or session cookie."""
    params = exchange.connection_params or {}
    credential = params.get("authorization") or params.get("Authorization")
    if isinstance(credential, str):
        return bearer_token(credential)  # a malformed one is refused, not replaced by the cookie
    return request_token(exchange.request, exchange.settings)


def set_session_cookie(exchange: Exchange, token: str) -> None:
    """HttpOnly, SameSite=Lax, path /; `__Host-` and Secure outside development."""
    if exchange.response is None:
        return
    settings = exchange.settings
    exchange.response.set_cookie(
        cookie_name(settings),
        token,
        max_age=int(settings.session_absolute_lifetime.total_seconds()),
        path="/",
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
    )


def device_cookie_name(settings: Settings) -> str:
    return "bff_device" if not settings.is_production else "__Host-bff_device"


# A device stays known for a year after its last password sign-in.
DEVICE_COOKIE_SECONDS = 365 * 24 * 3600


def known_device(exchange: Exchange) -> str | None:
    """The device token a sign-in presents (bff.identity.devices), from its cookie."""
    return exchange.request.cookies.get(device_cookie_name(exchange.settings)) or None


def set_device_cookie(exchange: Exchange, token: str) -> None:
    """HttpOnly and long-lived: the browser (or an app's cookie jar) is the known device."""
    if exchange.response is None:
        return
    settings = exchange.settings
    exchange.response.set_cookie(
        device_cookie_name(settings),
        token,
        max_age=DEVICE_COOKIE_SECONDS,
        path="/",
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(exchange: Exchange) -> None:
    if exchange.response is None:
        return
    settings = exchange.settings
    exchange.response.delete_cookie(
        cookie_name(settings),
        path="/",
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
    )


def uses_session_cookie(connection: HTTPConnection, settings: Settings) -> bool:
    """The request would be authenticated by the cookie (it has no bearer token)."""
    cookie = connection.cookies.get(cookie_name(settings))
    return bool(cookie) and request_token(connection, settings) == cookie


def cross_site_refusal(connection: HTTPConnection, settings: Settings) -> str | None:
    """Why a cookie-authenticated request must be refused (CSRF), or None.

    Browsers send `Origin` on every cross-origin POST and `Sec-Fetch-Site` on every request: a
    cookie request is refused when either names a site that is neither the server's own origin
    (the portal and GraphiQL it serves; the same rule as the websocket handshake's) nor one of
    CORS_ORIGINS. Clients that send neither (not browsers) cannot ride on a victim's cookie.
    """
    if not uses_session_cookie(connection, settings):
        return None
    origin = connection.headers.get("origin")
    if origin is not None and not (
        origin in settings.cors_origins or is_same_origin(origin, connection.headers.get("host"))
    ):
        return CROSS_SITE_REFUSAL
    if origin is None and connection.headers.get("sec-fetch-site") == "cross-site":
        return CROSS_SITE_REFUSAL
    return None
