"""The first rows of many groups in one query: `ROW_NUMBER() OVER (PARTITION BY ...)`.

Per-parent paging (each card's latest purchases) would otherwise be one query per parent. Window
functions run on PostgreSQL and on SQLite 3.25+; Tortoise has no window expressions, so this
writes the SQL with the dialect's placeholders and builds model instances from the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TypeVar

from tortoise.models import Model

from bff.db.sql import placeholders

M = TypeVar("M", bound=Model)


async def first_rows_per_group(
    model: type[M],
    *,
    group_by: str,
    groups: Sequence[int],
    equal: dict[str, object],
    order_by: Sequence[tuple[str, bool]],
    per_group: int,
) -> dict[int, list[M]]:
    """Up to `per_group` rows of `model` for each value of column `group_by` in `groups`, where
    each column of `equal` has its value, ordered by `order_by` ((column, descending) pairs)."""
    found: dict[int, list[M]] = defaultdict(list)
    if not groups or per_group <= 0:
        return found
    meta = model._meta  # noqa: SLF001 (Tortoise's public model metadata)
    client = meta.db
    columns = [group_by, *equal, *(column for column, _ in order_by)]
    for column in columns:
        if column not in meta.fields_db_projection_reverse:
            raise ValueError(f"{meta.db_table} has no column {column}")
    equal_marks = placeholders(client, len(equal))
    group_marks = placeholders(client, len(groups), start=1 + len(equal))
    [limit_mark] = placeholders(client, 1, start=1 + len(equal) + len(groups))
    conditions = [f'"{column}" = {mark}' for column, mark in zip(equal, equal_marks, strict=True)]
    conditions.append(f'"{group_by}" IN ({", ".join(group_marks)})')
    ordering = ", ".join(f'"{column}" {"DESC" if desc else "ASC"}' for column, desc in order_by)
    sql = (
        f'SELECT * FROM (SELECT "{meta.db_table}".*, ROW_NUMBER() OVER '  # noqa: S608 (columns checked against the model)
        f'(PARTITION BY "{group_by}" ORDER BY {ordering}) AS "_row_number" '
        f'FROM "{meta.db_table}" WHERE {" AND ".join(conditions)}) AS "ranked" '
        f'WHERE "_row_number" <= {limit_mark} ORDER BY "{group_by}", "_row_number"'
    )
    rows = await client.execute_query_dict(sql, [*equal.values(), *groups, per_group])
    for row in rows:
        del row["_row_number"]
        instance = model._init_from_db(**row)  # noqa: SLF001 (how Tortoise builds rows)
        found[row[group_by]].append(instance)
    return found
