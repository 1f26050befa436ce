"""build_app(): routes, middleware and the lifespan that opens and closes the database."""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import partial

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from tortoise import connections

from bff import metrics
from bff.db.connection import close_db, init_db
from bff.db.instrument import instrument_sql, use_tracer_provider
from bff.events import get_bus, running_bus
from bff.graphql.schema import build_schema
from bff.graphql.view import GraphQLView
from bff.internal_api.routes import internal_api_routes
from bff.messages.jobs import running_jobs
from bff.messages.unsubscribe import unsubscribe
from bff.middleware import (
    BodySizeLimitMiddleware,
    RequestEnvelopeMiddleware,
    WebSocketLimitsMiddleware,
)
from bff.portal import portal_routes
from bff.redis_clients import close_shared_redis, redis_usable, shared_redis
from bff.settings import Settings, get_settings
from bff.tracing import UNTRACED_PATHS, shutdown_tracing, tracer_provider

logger = logging.getLogger("bff")


async def healthz(_: Request) -> JSONResponse:
    """The process is alive."""
    return JSONResponse({"status": "ok"})


# A dependency that has not answered in this time is down: a hung server must not hang the probe.
READINESS_TIMEOUT_SECONDS = 2.0


async def _database_answers() -> None:
    await connections.get("default").execute_query("SELECT 1")


async def _redis_answers(url: str) -> None:
    await shared_redis(url).ping()


def readiness(settings: Settings) -> Callable[[Request], Awaitable[JSONResponse]]:
    """`/readyz`: the database answers, and Redis when REDIS_URL is set; load balancers route
    traffic only while this is 200. A 503 names each dependency that is down."""
    checks: dict[str, Callable[[], Awaitable[None]]] = {"database": _database_answers}
    if settings.redis_url:
        checks["redis"] = partial(_redis_answers, settings.redis_url)

    async def readyz(_: Request) -> JSONResponse:
        states = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), READINESS_TIMEOUT_SECONDS)
            except Exception:
                logger.exception("readiness check failed: %s is down", name)
                states[name] = "down"
            else:
                states[name] = "up"
        if "down" in states.values():
            return JSONResponse({"status": "unavailable", **states}, status_code=503)
        return JSONResponse({"status": "ok", **states})

    return readyz


def metrics_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """`/metrics`: Prometheus's text format, behind `Authorization: Bearer <METRICS_TOKEN>` when
    that is set. Gauges that read a state (Redis, the pool, subscriptions) are wired here."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    watch_state(settings)

    async def endpoint(request: Request) -> Response:
        if token is not None:
            presented = request.headers.get("authorization", "")
            if not hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
                return JSONResponse(
                    {"error": "UNAUTHORIZED", "message": "Send Authorization: Bearer <token>."},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    return endpoint


def unsubscribe_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """`/unsubscribe?token=`: RFC 8058 one-click POST from the mail client turns marketing mail
    off; GET (a person following the link) shows a button that POSTs, so link scanners that
    prefetch URLs unsubscribe no one."""

    async def endpoint(request: Request) -> Response:
        token = request.query_params.get("token", "")
        if request.method == "GET":
            return HTMLResponse(
                '<!doctype html><form method="post"><button>Unsubscribe from offers by mail'
                "</button></form>"
            )
        if not await unsubscribe(token=token, settings=settings):
            return JSONResponse({"error": "INVALID_TOKEN"}, status_code=400)
        return JSONResponse({"unsubscribed": True})

    return endpoint


def watch_state(settings: Settings) -> None:
    if settings.redis_url:
        url = settings.redis_url
        metrics.watch(metrics.REDIS_UP, lambda: 1.0 if redis_usable(url) else 0.0)
    metrics.watch(metrics.DB_POOL_IN_USE, _pool_in_use)
    metrics.watch(metrics.SUBSCRIPTIONS_OPEN, lambda: float(get_bus().subscriber_count()))


def _pool_in_use() -> float:
    try:
        pool = getattr(connections.get("default"), "_pool", None)
    except Exception:  # noqa: BLE001 (no database configured yet: nothing in use)
        return 0.0
    if pool is None:
        return 0.0
    return float(pool.get_size() - pool.get_idle_size())


class _Serving:
    """How many apps of this process are serving (tests run one inside another's lifespan)."""

    apps = 0


@contextmanager
def start_up_objects_frozen() -> Iterator[None]:
    """While serving, leave what start-up built out of the garbage collector's full passes.

    About 250,000 objects outlive start-up (the schema, the compiled plans, Tortoise's models,
    the libraries). Every full collection walked them all: 150-200 ms with each request in
    flight stalled, once every few hundred requests, which made the p99. Frozen (`gc.freeze`,
    after a collection so no start-up garbage is kept), a full pass walks what requests made.
    They thaw when the process's last serving app stops.
    """
    gc.collect()
    gc.freeze()
    _Serving.apps += 1
    try:
        yield
    finally:
        _Serving.apps -= 1
        if _Serving.apps == 0:
            gc.unfreeze()


def build_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    tracing = tracer_provider(settings)
    if tracing is not None:
        use_tracer_provider(tracing)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await init_db(settings)
        instrument_sql()
        try:
            # The job app: commits that queue messages nudge the relay; with WORKER_IN_PROCESS
            # (development's default) procrastinate's worker runs here too.
            async with (
                running_bus(settings),
                running_jobs(settings, work=settings.runs_worker_in_process),
            ):
                with start_up_objects_frozen():
                    yield
        finally:
            # uvicorn runs this after in-flight requests finished (or --graceful-timeout passed).
            await close_shared_redis()
            await close_db()
            shutdown_tracing()
            logger.info("database connections closed")

    graphql = GraphQLView(build_schema(settings), settings)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),  # subscriptions (graphql-transport-ws)
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readiness(settings), methods=["GET"]),
            Mount("/internal/v1", routes=internal_api_routes(settings)),
            *(
                [Route("/metrics", metrics_endpoint(settings), methods=["GET"])]
                if settings.metrics_on
                else []
            ),
            Route("/unsubscribe", unsubscribe_endpoint(settings), methods=["GET", "POST"]),
            *portal_routes(settings),  # the web portal at /, when built (WEB_DIST)
        ],
        middleware=[
            *(
                [
                    Middleware(
                        OpenTelemetryMiddleware,
                        tracer_provider=tracing,
                        excluded_urls=UNTRACED_PATHS,
                    )
                ]
                if tracing is not None
                else []
            ),
            Middleware(RequestEnvelopeMiddleware, hsts=settings.is_production),
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
                WebSocketLimitsMiddleware,
                max_frame_before_auth=settings.ws_max_frame_bytes_before_auth,
                max_frame=settings.ws_max_frame_bytes,
                max_per_address=settings.ws_connections_per_address,
            ),
            Middleware(
                BodySizeLimitMiddleware,
                max_bytes=settings.max_body_bytes,
                timeout=settings.request_body_timeout.total_seconds(),
            ),
        ],
        lifespan=lifespan,
    )
