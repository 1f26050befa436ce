"""Tortoise ORM configuration, start-up and migrations."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as tortoise_migrate

from bff.settings import Settings, get_settings

MODEL_MODULES = [
    "bff.identity.models",
    "bff.profile.models",
    "bff.cards.models",
    "bff.points.models",
    "bff.offers.models",
]


async def _keep_session(_: object) -> None:
    """Release a pooled PostgreSQL connection without asyncpg's reset query (see below)."""


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """The Tortoise config for these settings: one app, our migrations, UTC-aware times."""
    url = settings.database_url
    connection: str | dict[str, Any] = url
    if url.startswith(("postgres://", "postgresql://")):
        if "maxsize" not in url:
            separator = "&" if "?" in url else "?"
            url = f"{url}{separator}maxsize={settings.database_pool_max}"
        connection = expand_db_url(url)
        # Tortoise takes a pool connection per statement, and asyncpg's default release runs
        # RESET ALL / UNLISTEN / advisory unlock: one more round trip for every statement. Pooled
        # connections never change session state here (no SET, LISTEN or advisory locks), and
        # asyncpg still rolls back a transaction left open before this hook runs.
        connection["credentials"]["reset"] = _keep_session
    return {
        "connections": {"default": connection},
        "apps": {
            "bff": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "bff.migrations",
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
