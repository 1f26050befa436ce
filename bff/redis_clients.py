"""Redis clients: made by one function, shared per URL in the process, closed at shutdown.

Requests never wait long on Redis: the shared clients time out after `COMMAND_TIMEOUT_SECONDS`
(connecting, reading, waiting for a pooled connection), and a client that failed is skipped for
`RETRY_AFTER_SECONDS` (`redis_usable`), so callers go straight to their fallback (the database
for throttling, the process cache for persisted queries) instead of paying a timeout each time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

if TYPE_CHECKING:
    from redis.asyncio import Redis

MAX_CONNECTIONS = 50
COMMAND_TIMEOUT_SECONDS = 0.5
RETRY_AFTER_SECONDS = 5.0
# What a Redis outage raises: refused or reset connections, timeouts, protocol errors.
REDIS_FAILURES: tuple[type[Exception], ...] = (RedisError, OSError, asyncio.TimeoutError)

logger = logging.getLogger("bff.redis")

_shared: dict[str, Redis] = {}
_down_until: dict[str, float] = {}


def connect_redis(url: str, *, client_name: str = "bff", timeout: float | None = None) -> Redis:
    """A client whose pool waits for a free connection instead of failing under a burst.

    Its connections carry `client_name`, so `CLIENT LIST` on the server shows whose they are.
    With `timeout`, connecting, each command and the wait for a pooled connection give up after
    that many seconds (not for the event bus: its subscription blocks on reads by design).
    """
    from redis.asyncio import BlockingConnectionPool, Redis  # noqa: PLC0415

    options: dict[str, float] = {}
    if timeout is not None:
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout, "timeout": timeout}
    pool = BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, client_name=client_name, **options
    )
    return Redis.from_pool(pool)


def shared_redis(url: str) -> Redis:
    """The process's client for `url` (throttle counters, persisted queries), made on first use."""
    client = _shared.get(url)
    if client is None:
        client = _shared[url] = connect_redis(url, timeout=COMMAND_TIMEOUT_SECONDS)
    return client


def redis_usable(url: str) -> bool:
    """False for a while after a command on `url` failed: use the fallback without waiting."""
    return time.monotonic() >= _down_until.get(url, 0.0)


def mark_redis_failed(url: str, error: BaseException) -> None:
    if redis_usable(url):
        logger.warning(
            "Redis failed (%s); using fallbacks for %.0f s",
            type(error).__name__,
            RETRY_AFTER_SECONDS,
        )
    _down_until[url] = time.monotonic() + RETRY_AFTER_SECONDS


async def close_shared_redis() -> None:
    """Close every shared client (the app's lifespan, at shutdown); a later use makes a new one."""
    clients = list(_shared.values())
    _shared.clear()
    _down_until.clear()
    for client in clients:
        await client.aclose()
