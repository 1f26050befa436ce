"""Hand-written SQL where Tortoise's query building costs more than the query (hot read paths)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.models import Model

M = TypeVar("M", bound=Model)


def placeholders(client: BaseDBAsyncClient, count: int) -> list[str]:
    """`count` parameter markers of the client's dialect ($1.. on PostgreSQL, ? on SQLite)."""
    if client.capabilities.dialect == "postgres":
        return [f"${n}" for n in range(1, 1 + count)]
    return ["?"] * count


class Parameters:
    """The values of one statement and their markers, numbered in the order they are added."""

    def __init__(self, client: BaseDBAsyncClient) -> None:
        self.values: list[object] = []
        self._numbered = client.capabilities.dialect == "postgres"

    def mark(self, value: object) -> str:
        """The marker of `value` ($n on PostgreSQL, ? on SQLite), added to the values."""
        self.values.append(value)
        return f"${len(self.values)}" if self._numbered else "?"


# Tortoise's lookup for each operator a `Where` term may use.
_LOOKUPS = {"=": "", "<": "__lt", "<=": "__lte", ">": "__gt", "IN": "__in"}
IS_NULL = "IS NULL"


@dataclass(frozen=True)
class Where:
    """Column comparisons that must all hold, written once and read two ways: as a Tortoise `Q`
    for the ORM, and as SQL for hand-written statements, so the two can never disagree."""

    terms: tuple[tuple[str, str, object], ...] = ()

    @classmethod
    def of(cls, column: str, op: str, value: object = None) -> Where:
        """One comparison: `op` is one of =, <, <=, >, IN (a collection, kept as a tuple) or
        IS NULL.

        Terms the two readings would take differently are refused: a None to compare with (the
        ORM reads `= None` as IS NULL, SQL's `= NULL` holds for no row) and an IN over a string
        or a non-collection.
        """
        if op != IS_NULL and op not in _LOOKUPS:
            raise ValueError(f"unsupported operator {op}")
        if op == "IN":
            if not isinstance(value, Iterable) or isinstance(value, str | bytes):
                raise ValueError(f"IN needs a collection of values for {column}")
            value = tuple(value)
        elif op != IS_NULL and value is None:
            raise ValueError(f"compare {column} with IS NULL, not {op} None")
        return cls(((column, op, value),))

    def __and__(self, other: Where) -> Where:
        return Where((*self.terms, *other.terms))

    def q(self, relation: str = "") -> Q:
        """The ORM's reading; `relation` ("member__") reads the columns of a related model."""
        lookups: list[dict[str, object]] = [
            {f"{relation}{column}__isnull": True}
            if op == IS_NULL
            else {f"{relation}{column}{_LOOKUPS[op]}": value}
            for column, op, value in self.terms
        ]
        return Q(*(Q(**lookup) for lookup in lookups))  # type: ignore[arg-type]

    def sql(self, model: type[Model], parameters: Parameters, alias: str = "") -> str:
        """The condition on `model`'s table (named `alias` in the statement, if given), its
        values converted as the model stores them."""
        meta = model._meta  # noqa: SLF001 (Tortoise metadata)
        table = f'"{alias}".' if alias else ""
        parts = []
        for column, op, value in self.terms:
            if column not in meta.fields_db_projection_reverse:
                raise ValueError(f"{meta.db_table} has no column {column}")
            field = meta.fields_map[meta.fields_db_projection_reverse[column]]
            if op == IS_NULL:
                parts.append(f'{table}"{column}" IS NULL')
            elif op == "IN":
                if not isinstance(value, tuple):
                    raise ValueError(f"IN needs a tuple of values for {column} (see Where.of)")
                marks = [parameters.mark(field.to_db_value(v, model)) for v in value]
                parts.append(f'{table}"{column}" IN ({", ".join(marks)})' if marks else "1 = 0")
            else:
                mark = parameters.mark(field.to_db_value(value, model))
                parts.append(f'{table}"{column}" {op} {mark}')
        return " AND ".join(parts) or "1 = 1"


@dataclass(frozen=True)
class AnyOf:
    """Alternatives of which at least one must hold, read two ways like `Where`."""

    alternatives: tuple[Where, ...]

    def q(self) -> Q:
        return Q(*(alternative.q() for alternative in self.alternatives), join_type="OR")

    def sql(self, model: type[Model], parameters: Parameters) -> str:
        """The condition on `model`'s table; its markers are added left to right."""
        parts = [f"({alternative.sql(model, parameters)})" for alternative in self.alternatives]
        return f"({' OR '.join(parts)})" if parts else "1 = 0"


def python_time(model: type[Model], field: str, value: object) -> datetime | None:
    """A value read from `model.field` by raw SQL, as the model would hold it."""
    converted: datetime | None = model._meta.fields_map[field].to_python_value(value)  # noqa: SLF001
    return converted


async def select_models(
    model: type[M],
    *,
    column_in: tuple[str, Sequence[object]],
    order_by: Sequence[tuple[str, bool]] = (),
) -> list[M]:
    """Rows of `model` whose column_in column is one of its values, ordered by (column,
    descending) pairs: the SELECT Tortoise would write for this filter, without building the
    query each time (about 0.5 ms of CPU per loader call)."""
    column, values = column_in
    if not values:
        return []
    meta = model._meta  # noqa: SLF001 (Tortoise's public model metadata)
    client = meta.db
    for ordered, _ in order_by:
        if ordered not in meta.fields_db_projection_reverse:
            raise ValueError(f"{meta.db_table} has no column {ordered}")
    parameters = Parameters(client)
    condition = Where.of(column, "IN", values).sql(model, parameters)
    sql = f'SELECT * FROM "{meta.db_table}" WHERE {condition}'  # noqa: S608 (columns checked)
    if order_by:
        sql += " ORDER BY " + ", ".join(
            f'"{ordered}" {"DESC" if descending else "ASC"}' for ordered, descending in order_by
        )
    rows = await client.execute_query_dict(sql, parameters.values)
    return [model._init_from_db(**row) for row in rows]  # noqa: SLF001 (how Tortoise builds rows)


async def select_where(
    model: type[M],
    *,
    conditions: Sequence[Where | AnyOf],
    order_by: Sequence[tuple[str, bool]] = (),
    limit: int | None = None,
) -> list[M]:
    """Rows of `model` meeting every condition, ordered by (column, descending) pairs, at most
    `limit`: the SELECT Tortoise would write for `filter(*(c.q() for c in conditions))`, without
    building the query each time."""
    meta = model._meta  # noqa: SLF001 (Tortoise's public model metadata)
    client = meta.db
    for ordered, _ in order_by:
        if ordered not in meta.fields_db_projection_reverse:
            raise ValueError(f"{meta.db_table} has no column {ordered}")
    parameters = Parameters(client)
    where = " AND ".join(condition.sql(model, parameters) for condition in conditions) or "1 = 1"
    sql = f'SELECT * FROM "{meta.db_table}" WHERE {where}'  # noqa: S608 (columns checked)
    if order_by:
        sql += " ORDER BY " + ", ".join(
            f'"{ordered}" {"DESC" if descending else "ASC"}' for ordered, descending in order_by
        )
    if limit is not None:
        sql += f" LIMIT {parameters.mark(limit)}"
    rows = await client.execute_query_dict(sql, parameters.values)
    return [model._init_from_db(**row) for row in rows]  # noqa: SLF001 (how Tortoise builds rows)
