"""build_app(): routes, middleware and the lifespan that opens and closes the database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from tortoise import connections

from bff.db import close_db, init_db
from bff.events import running_bus
from bff.graphql.schema import build_schema
from bff.graphql.view import GraphQLView
from bff.internal_api.routes import internal_api_routes
from bff.middleware import (
    AccessLogMiddleware,
    BodySizeLimitMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from bff.redis_clients import close_shared_redis
from bff.settings import Settings, get_settings

logger = logging.getLogger("bff")


async def healthz(_: Request) -> JSONResponse:
    """The process is alive."""
    return JSONResponse({"status": "ok"})


async def readyz(_: Request) -> JSONResponse:
    """The database answers; load balancers route traffic only while this is 200."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        logger.exception("readiness check failed")
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "up"})


def build_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await init_db(settings)
        try:
            async with running_bus(settings):
                yield
        finally:
            # uvicorn runs this after in-flight requests finished (or --graceful-timeout passed).
            await close_shared_redis()
            await close_db()
            logger.info("database connections closed")

    graphql = GraphQLView(build_schema(settings), settings)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),  # subscriptions (graphql-transport-ws)
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Mount("/internal/v1", routes=internal_api_routes(settings)),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(AccessLogMiddleware),
            Middleware(SecurityHeadersMiddleware, hsts=settings.is_production),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_credentials=True,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                expose_headers=["X-Request-ID"],
                max_age=600,
            ),
            Middleware(
                BodySizeLimitMiddleware,
                max_bytes=settings.max_body_bytes,
                timeout=settings.request_body_timeout.total_seconds(),
            ),
        ],
        lifespan=lifespan,
    )
