"""Prometheus metrics of this process (`prometheus-client`), served at `/metrics`.

Every metric lives in one registry of this module; the code that knows an event counts it here
(the GraphQL extension, the internal API, the throttle, sign-in, password hashing, the websocket
limits), and gauges read their state when scraped. Labels stay bounded: GraphQL operations are
labelled with their manifest name (clients/manifest.json) or `other`, error codes come from the
ErrorCode enum, internal API endpoints from the routes.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST
OTHER_OPERATION = "other"
# The operation the running code serves, for the SQL metrics: a manifest operation's name,
# `other`, `internal_api`, or `none` outside any request.
current_operation: ContextVar[str] = ContextVar("bff_current_operation", default="none")

GRAPHQL_REQUESTS = Counter(
    "bff_graphql_requests",
    "GraphQL operations by manifest operation name (else `other`) and outcome "
    "(ok, error: errors in the result, refused: never executed).",
    ["operation", "outcome"],
    registry=REGISTRY,
)
GRAPHQL_SECONDS = Histogram(
    "bff_graphql_request_seconds",
    "Time to answer a GraphQL operation, by manifest operation name (else `other`).",
    ["operation"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GRAPHQL_ERRORS = Counter(
    "bff_graphql_errors",
    "Errors in GraphQL results (masked unexpected errors, refusals, limits), by their code.",
    ["code"],
    registry=REGISTRY,
)
GRAPHQL_EXECUTIONS = Counter(
    "bff_graphql_executions",
    "Executed GraphQL operations by manifest operation name (else `other`) and executor "
    "(compiled: the compiled plan of the document; strawberry: the reference executor).",
    ["operation", "executor"],
    registry=REGISTRY,
)
SQL_STATEMENTS = Counter(
    "bff_sql_statements",
    "SQL statements sent, by the operation they served (manifest name, other, internal_api).",
    ["operation"],
    registry=REGISTRY,
)
SQL_SECONDS = Counter(
    "bff_sql_seconds",
    "Time spent in SQL statements, by the operation they served.",
    ["operation"],
    registry=REGISTRY,
)
SIGN_INS = Counter(
    "bff_sign_ins",
    "Password sign-ins by outcome (ok, invalid, throttled).",
    ["outcome"],
    registry=REGISTRY,
)
THROTTLED = Counter(
    "bff_throttled_attempts",
    "Attempts refused with TOO_MANY_ATTEMPTS, by factor (password, totp, card_code, ...).",
    ["factor"],
    registry=REGISTRY,
)
INTERNAL_API_REQUESTS = Counter(
    "bff_internal_api_requests",
    "Calls of the store systems' API by endpoint and HTTP status.",
    ["endpoint", "status"],
    registry=REGISTRY,
)
PASSWORD_HASHES_WAITING = Gauge(
    "bff_password_hashes_waiting",
    "Password hashes queued for a free hashing thread (PASSWORD_HASHES_IN_FLIGHT).",
    registry=REGISTRY,
)
PASSWORD_HASHES_RUNNING = Gauge(
    "bff_password_hashes_running",
    "Password hashes running now.",
    registry=REGISTRY,
)
WEBSOCKETS_OPEN = Gauge(
    "bff_websockets_open",
    "Websockets open on this process.",
    registry=REGISTRY,
)
REDIS_UP = Gauge(
    "bff_redis_up",
    "1 while the shared Redis client works, 0 while callers use their fallbacks.",
    registry=REGISTRY,
)
DB_POOL_IN_USE = Gauge(
    "bff_db_pool_connections_in_use",
    "Database connections checked out of the pool (PostgreSQL).",
    registry=REGISTRY,
)
SUBSCRIPTIONS_OPEN = Gauge(
    "bff_subscriptions_open",
    "Live subscriptions on this process's event bus.",
    registry=REGISTRY,
)


EVENTS_PUBLISHED = Counter(
    "bff_events_published",
    "Events published to Redis by outcome (ok, failed: the live update is lost, clients catch "
    "up on reconnect).",
    ["outcome"],
    registry=REGISTRY,
)
EVENTS_RECEIVED = Counter(
    "bff_events_received",
    "Events received from Redis by this process's bus listener.",
    registry=REGISTRY,
)
EVENT_BUS_LAG_SECONDS = Histogram(
    "bff_event_bus_lag_seconds",
    "Time from an event's publication by any process to its arrival at this process's bus "
    "listener (clocks of the processes assumed in step; a growing lag means Redis or this "
    "process is behind).",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0),
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "bff_message_deliveries",
    "Message deliveries finished by the messages worker, by channel and outcome (sent; retry: a "
    "transient failure, tried again later; failed: permanent, or given up).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
EVENT_BUS_RECONNECTS = Counter(
    "bff_event_bus_reconnects",
    "Times the bus listener lost Redis and retried.",
    registry=REGISTRY,
)


def watch(gauge: Gauge, read: Callable[[], float]) -> None:
    """Make `gauge` read its value from `read` at each scrape."""
    gauge.set_function(read)


def exposition() -> bytes:
    """The text format of every metric, for `/metrics`."""
    return generate_latest(REGISTRY)
