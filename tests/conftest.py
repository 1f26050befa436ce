"""Fixtures: a real database (SQLite file, or PostgreSQL with TEST_DATABASE_URL), migrated once
per run and emptied after each test, and the real ASGI app behind an httpx client."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from cryptography.fernet import Fernet
from pydantic import SecretStr
from starlette.applications import Starlette
from tortoise import Tortoise, connections

from bff.app import build_app
from bff.db.connection import migrate
from bff.settings import Settings

INTERNAL_API_KEY = "test-internal-api-key"
POSTGRES_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On SQLite, deselect `postgres_only` tests (row locks and parallel writers need PostgreSQL;
    SQLite runs one writer at a time): they are reported as deselected, never as passed."""
    if POSTGRES_ADMIN_URL:
        return
    kept = [item for item in items if item.get_closest_marker("postgres_only") is None]
    dropped = [item for item in items if item.get_closest_marker("postgres_only") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _postgres_url(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A new, empty database for this run; PostgreSQL when TEST_DATABASE_URL names a server."""
    if not POSTGRES_ADMIN_URL:
        path: Path = tmp_path_factory.mktemp("db") / "bff-test.sqlite3"
        yield f"sqlite://{path}"
        return
    name = f"bff_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://", 1)
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield _postgres_url(name)
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings: cheap argon2 parameters, fixed keys, nothing read from .env."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": SecretStr("test-secret-key-" + "x" * 32),
        "totp_encryption_keys": [SecretStr(Fernet.generate_key().decode())],
        "internal_api_keys": [SecretStr(INTERNAL_API_KEY)],
        "argon2_time_cost": 1,
        "argon2_memory_cost_kib": 1024,
        "argon2_parallelism": 1,
        "throttle_max_delay_seconds": 0.0,
        "session_idle_timeout": timedelta(days=7),
        "cors_origins": ["http://web.example"],
        "redis_url": None,
        # Tests that deliver messages run their own worker (tests/messages/).
        "worker_in_process": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
async def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
async def migrated(settings: Settings) -> None:
    """The schema comes from the committed migrations, so every run tests them."""
    await migrate(settings)


@pytest.fixture(scope="session")
async def app(settings: Settings, migrated: None) -> AsyncIterator[Starlette]:
    application = build_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture(autouse=True)
async def _empty_database(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Each test starts from empty tables (only for tests that touched the app)."""
    yield
    if "app" not in request.fixturenames or not Tortoise._inited:
        return
    await empty_tables()


async def empty_tables() -> None:
    connection = connections.get("default")
    tables = [
        model._meta.db_table
        for app_models in Tortoise.apps.values()
        for model in app_models.values()
    ]
    if connection.capabilities.dialect == "postgres":
        # procrastinate's tables too (migration 0008): jobs, their events, workers, periodic ticks
        tables += [
            "procrastinate_jobs",
            "procrastinate_events",
            "procrastinate_workers",
            "procrastinate_periodic_defers",
        ]
        quoted = ", ".join(f'"{table}"' for table in tables)
        await connection.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    else:
        await connection.execute_script(
            "PRAGMA foreign_keys = OFF;"
            + "".join(f'DELETE FROM "{table}";' for table in tables)
            + "PRAGMA foreign_keys = ON;"
        )


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
