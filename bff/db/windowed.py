"""The first rows of many groups in one query: `ROW_NUMBER() OVER (PARTITION BY ...)`.

Per-parent paging (each card's latest purchases) would otherwise be one query per parent. Window
functions run on PostgreSQL and on SQLite 3.25+; Tortoise has no window expressions, so this
writes the SQL with the dialect's placeholders and builds model instances from the rows. A
single group is the same statement without the window (ORDER BY ... LIMIT).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from tortoise.models import Model

from bff.db.sql import Parameters

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
    columns = [group_by, *equal, *(column for column, _ in order_by)]
    for column in columns:
        if column not in meta.fields_db_projection_reverse:
            raise ValueError(f"{meta.db_table} has no column {column}")
    parameters = Parameters(meta.db)

    def mark(column: str, value: object) -> str:
        field = meta.fields_map[meta.fields_db_projection_reverse[column]]
        return parameters.mark(field.to_db_value(value, model))

    conditions = [f'"{column}" = {mark(column, value)}' for column, value in equal.items()]
    conditions.append(f'"{group_by}" IN ({", ".join(mark(group_by, g) for g in groups)})')
    if after is not None:
        conditions.append(_after(order_by, after, mark))
    ordering = ", ".join(f'"{column}" {"DESC" if desc else "ASC"}' for column, desc in order_by)
    where = " AND ".join(conditions)
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


def _after(
    order_by: Sequence[tuple[str, bool]],
    after: Sequence[object],
    mark: Callable[[str, object], str],
) -> str:
    """Rows past `after` in the order: (a, b) after (x, y) is a past x, or a = x and b past y."""
    if len(after) != len(order_by):
        raise ValueError("after needs a value for each order_by column")
    alternatives = []
    for index, (column, descending) in enumerate(order_by):
        tied = [f'"{c}" = {mark(c, v)}' for (c, _), v in zip(order_by[:index], after, strict=False)]
        past = f'"{column}" {"<" if descending else ">"} {mark(column, after[index])}'
        alternatives.append("(" + " AND ".join([*tied, past]) + ")")
    return "(" + " OR ".join(alternatives) + ")"
