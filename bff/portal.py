"""The web portal's built files (clients/web/dist, `WEB_DIST`) at `/`, from the BFF's own origin,
so the cookie session needs no CORS.

Hashed files under `assets/` never change: cached for a year, immutable. `/` is the
single-page app's `index.html` (its screens are `#/` routes), never cached (a deploy is seen at
once), with the Content-Security-Policy the app is built to pass (no inline script or style,
same-origin connections only: `/graphql` over HTTP and websocket). The same page answers the
paths of the links mailed to members (`/reset-password?token=...`, see bff/messages/delivery.py),
with `Referrer-Policy: no-referrer` so the token is sent nowhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bff.messages.delivery import LINK_PATHS

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import Receive, Scope, Send

    from bff.settings import Settings

REPOSITORY = Path(__file__).resolve().parents[1]
IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_SECURITY_POLICY = "; ".join(  # noqa: FLY002 (one directive a line)
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def portal_folder(settings: Settings) -> Path | None:
    """The built portal (WEB_DIST, relative to the repository), or None when it is not built."""
    folder = Path(settings.web_dist)
    if not folder.is_absolute():
        folder = REPOSITORY / folder
    return folder if (folder / "index.html").is_file() else None


class ImmutableFiles(StaticFiles):
    """Content-hashed assets: a year in any cache; a missing one is a plain 404."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_cache(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 200:  # noqa: PLR2004
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                headers.append((b"cache-control", IMMUTABLE.encode()))
                message["headers"] = headers
            await send(message)

        await super().__call__(scope, receive, send_with_cache)  # type: ignore[arg-type]


def portal_routes(settings: Settings) -> list[Route | Mount]:
    """`/` and the mailed links' paths (the app's `index.html`; its screens are `#/...` routes)
    and `/assets/*`; nothing when the portal is not built."""
    folder = portal_folder(settings)
    if folder is None:
        return []
    index = folder / "index.html"

    async def app_page(request: Request) -> Response:
        headers = {"Cache-Control": "no-cache", "Content-Security-Policy": CONTENT_SECURITY_POLICY}
        if request.url.path in LINK_PATHS:
            headers["Referrer-Policy"] = "no-referrer"
        return FileResponse(index, media_type="text/html", headers=headers)

    routes: list[Route | Mount] = [
        Route(path, app_page, methods=["GET", "HEAD"]) for path in ("/", *LINK_PATHS)
    ]
    if (folder / "assets").is_dir():
        routes.append(Mount("/assets", ImmutableFiles(directory=folder / "assets")))
    return routes
