"""Hand-written SQL where Tortoise's query building costs more than the query (hot read paths)."""

from __future__ import annotations

from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model


def placeholders(client: BaseDBAsyncClient, count: int, *, start: int = 1) -> list[str]:
    """`count` parameter markers of the client's dialect ($1.. on PostgreSQL, ? on SQLite)."""
    if client.capabilities.dialect == "postgres":
        return [f"${n}" for n in range(start, start + count)]
    return ["?"] * count


def db_time(model: type[Model], field: str, value: datetime) -> object:
    """`value` as the database stores `model.field` (SQLite compares ISO strings)."""
    return model._meta.fields_map[field].to_db_value(value, model)  # noqa: SLF001 (Tortoise metadata)


def python_time(model: type[Model], field: str, value: object) -> datetime | None:
    """A value read from `model.field` by raw SQL, as the model would hold it."""
    converted: datetime | None = model._meta.fields_map[field].to_python_value(value)  # noqa: SLF001
    return converted
