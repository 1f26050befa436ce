"""Tortoise ORM configuration, start-up and migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.migrations.executor import MigrationExecutor

from bff.db.postgres import PinnedConnection, PostgresClient
from bff.settings import Settings, get_settings

MODEL_MODULES = [
    "bff.identity.models",
    "bff.profile.models",
    "bff.loyalty.models",
    "bff.offers.models",
    "bff.outbox.models",
    "bff.messages.models",
]


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """The Tortoise config for these settings: one app, our migrations, UTC-aware times."""
    url = settings.database_url
    connection: str | dict[str, Any] = url
    if url.startswith(("postgres://", "postgresql://")):
        if "maxsize" not in url:
            separator = "&" if "?" in url else "?"
            url = f"{url}{separator}maxsize={settings.database_pool_max}"
        # Tortoise's asyncpg client on connections released without a reset (bff/db/postgres.py)
        connection = {**expand_db_url(url), "engine": "bff.db.postgres"}
    return {
        "connections": {"default": connection},
        "apps": {
            "bff": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "bff.db.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:  # noqa: ANN401 (module attribute protocol)
    # `tortoise makemigrations` reads TORTOISE_ORM (pyproject [tool.tortoise]); build it lazily so
    # importing this module never reads the environment.
    if name == "TORTOISE_ORM":
        return tortoise_config(get_settings())
    raise AttributeError(name)


async def init_db(settings: Settings) -> None:
    """Open the connection pool (the schema comes from `migrate`, never generate_schemas)."""
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate(settings: Settings) -> None:
    """Apply every pending migration."""
    try:
        await tortoise_migrate(config=tortoise_config(settings))
    finally:
        await Tortoise.close_connections()


async def pending_migrations(settings: Settings) -> list[str]:
    """The migrations `bff migrate` would apply to this database (reads, never writes)."""
    config = tortoise_config(settings)
    await Tortoise.init(config=config)
    try:
        executor = MigrationExecutor(connections.get("default"), config["apps"])
        steps = await executor.plan(None)
        return [f"{step.migration.app_label}.{step.migration.name}" for step in steps]
    finally:
        await Tortoise.close_connections()


@asynccontextmanager
async def one_connection() -> AsyncIterator[None]:
    """Every statement inside runs on one pooled PostgreSQL connection, taken at the first and
    given back once at the end (`PinnedConnection`). For reads: a block that may wait for a
    password hash must not hold a connection. Elsewhere (SQLite, which has one connection, or
    inside a transaction, which has its own) nothing changes."""
    client = connections.get("default")
    if type(client) is not PostgresClient:
        yield
        return
    pinned = PinnedConnection(client)
    token = connections.set("default", pinned)
    try:
        yield
    finally:
        connections.reset(token)
        await pinned.release()
