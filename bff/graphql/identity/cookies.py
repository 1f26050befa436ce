"""The session cookie of the web client, and the CSRF rule for requests that carry it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bff.identity.sessions import cookie_name, request_token

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

    from bff.graphql.context import Context
    from bff.settings import Settings


def set_session_cookie(context: Context, token: str) -> None:
    """HttpOnly, SameSite=Lax, path /; `__Host-` and Secure outside development."""
    if context.response is None:
        return
    settings = context.settings
    context.response.set_cookie(
        cookie_name(settings),
        token,
        max_age=int(settings.session_absolute_lifetime.total_seconds()),
        path="/",
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(context: Context) -> None:
    if context.response is None:
        return
    settings = context.settings
    context.response.delete_cookie(
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
    cookie request is refused when either names a site that is not one of CORS_ORIGINS. Clients
    that send neither (not browsers) cannot ride on a victim's cookie.
    """
    if not uses_session_cookie(connection, settings):
        return None
    origin = connection.headers.get("origin")
    if origin is not None and origin not in settings.cors_origins:
        return "Cookie-authenticated requests are only accepted from the portal's own origins."
    if origin is None and connection.headers.get("sec-fetch-site") == "cross-site":
        return "Cookie-authenticated requests are only accepted from the portal's own origins."
    return None
