"""The first rows of many groups in one query: `ROW_NUMBER() OVER (PARTITION BY ...)`.

Per-parent paging (each card's latest purchases) would otherwise be one query per parent. Window
functions run on PostgreSQL and on SQLite 3.25+; Tortoise has no window expressions, so this
writes the SQL with the dialect's placeholders and builds model instances from the rows. A
single group is the same statement without the window (ORDER BY ... LIMIT).
"""

from __future__ import annotations

import functools
import operator
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TypeVar

from tortoise.models import Model

from bff.db.paging import past
from bff.db.sql import Parameters, Where

M = TypeVar("M", bound=Model)


async def first_rows_per_group(
    model: type[M],
    *,
    group_by: str,
    groups: Sequence[int],
    equal: Mapping[str, object],
    order_by: Sequence[tuple[str, bool]],
    after: Sequence[object] | None = None,
    per_group: int,
) -> dict[int, list[M]]:
    """Up to `per_group` rows of `model` for each value of column `group_by` in `groups`, where
    each column of `equal` has its value, ordered by `order_by` ((column, descending) pairs),
    and, with `after` (a value per `order_by` column), only the rows that come after it in that
    order: keyset paging, stable while rows are added."""
    found: dict[int, list[M]] = defaultdict(list)
    if not groups or per_group <= 0:
        return found
    meta = model._meta  # noqa: SLF001 (Tortoise's public model metadata)
    for column, _ in order_by:
        if column not in meta.fields_db_projection_reverse:
            raise ValueError(f"{meta.db_table} has no column {column}")
    parameters = Parameters(meta.db)
    equal_columns = (Where.of(column, "=", value) for column, value in equal.items())
    rows_of_groups = functools.reduce(operator.and_, equal_columns, Where())
    rows_of_groups &= Where.of(group_by, "IN", groups)
    where = rows_of_groups.sql(model, parameters)
    if after is not None:
        where += f" AND {past(after, order_by).sql(model, parameters)}"
    ordering = ", ".join(f'"{column}" {"DESC" if desc else "ASC"}' for column, desc in order_by)
    if len(groups) == 1:
        # One group needs no window: with ORDER BY ... LIMIT the index hands over the page
        # alone, where the window would number every row of the group first (the planner does
        # not see that it stops early), which grows with the member's history.
        sql = (
            f'SELECT * FROM "{meta.db_table}" WHERE {where} '  # noqa: S608 (columns checked against the model)
            f"ORDER BY {ordering} LIMIT {parameters.mark(per_group)}"
        )
    else:
        sql = (
            f'SELECT * FROM (SELECT "{meta.db_table}".*, ROW_NUMBER() OVER '  # noqa: S608 (columns checked against the model)
            f'(PARTITION BY "{group_by}" ORDER BY {ordering}) AS "_row_number" '
            f'FROM "{meta.db_table}" WHERE {where}) AS "ranked" '
            f'WHERE "_row_number" <= {parameters.mark(per_group)} '
            f'ORDER BY "{group_by}", "_row_number"'
        )
    rows = await meta.db.execute_query_dict(sql, parameters.values)
    for row in rows:
        row.pop("_row_number", None)
        instance = model._init_from_db(**row)  # noqa: SLF001 (how Tortoise builds rows)
        found[row[group_by]].append(instance)
    return found
