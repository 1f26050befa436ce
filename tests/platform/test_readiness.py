"""/readyz checks every dependency the app needs: the database, and Redis when REDIS_URL is set."""

from __future__ import annotations

from bff.redis_clients import close_shared_redis

REDIS_URL = "redis://127.0.0.1:6379/0"
# Nothing listens on port 1: connecting is refused at once, as when Redis is down.
DOWN_REDIS_URL = "redis://127.0.0.1:1/0"


async def test_readyz_checks_redis_too_when_redis_url_is_set(client_with):
    """Both dependencies answer: 200 and each one reported up."""
    http = await client_with(redis_url=REDIS_URL)

    try:
        response = await http.get("/readyz")
    finally:
        await close_shared_redis()

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up", "redis": "up"}


async def test_readyz_is_503_and_names_redis_when_redis_is_down(client_with):
    """The load balancer stops routing to a process whose Redis is unreachable, and says why."""
    http = await client_with(redis_url=DOWN_REDIS_URL)

    try:
        response = await http.get("/readyz")
    finally:
        await close_shared_redis()

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "up", "redis": "down"}


async def test_readyz_does_not_mention_redis_without_redis_url(client):
    """A single process without Redis is ready when its database answers."""

    response = await client.get("/readyz")

    assert response.json() == {"status": "ok", "database": "up"}
