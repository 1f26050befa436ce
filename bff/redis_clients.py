"""Redis clients: made by one function, shared per URL in the process, closed at shutdown."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

MAX_CONNECTIONS = 50

_shared: dict[str, Redis] = {}


def connect_redis(url: str, *, client_name: str = "bff") -> Redis:
    """A client whose pool waits for a free connection instead of failing under a burst.

    Its connections carry `client_name`, so `CLIENT LIST` on the server shows whose they are.
    """
    from redis.asyncio import BlockingConnectionPool, Redis  # noqa: PLC0415 (only with REDIS_URL)

    pool = BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, client_name=client_name
    )
    return Redis.from_pool(pool)


def shared_redis(url: str) -> Redis:
    """The process's client for `url` (throttle counters), made on first use."""
    client = _shared.get(url)
    if client is None:
        client = _shared[url] = connect_redis(url)
    return client


async def close_shared_redis() -> None:
    """Close every shared client (the app's lifespan, at shutdown); a later use makes a new one."""
    clients = list(_shared.values())
    _shared.clear()
    for client in clients:
        await client.aclose()
