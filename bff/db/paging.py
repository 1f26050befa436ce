"""Keyset pages over querysets: stable while rows are added, one query per page."""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from bff.db.sql import AnyOf, Where
from bff.errors import DomainError, ErrorCode
from bff.ids import MAX_PRIMARY_KEY

M = TypeVar("M", bound=Model)


def cursor_position(after: tuple[str, int]) -> tuple[datetime, int]:
    """The (time, id) inside a cursor; INVALID_INPUT unless the time is an aware ISO 8601 time
    that exists in UTC and the id fits a BIGINT key (the databases refuse larger numbers)."""
    value, pk = after
    try:
        parsed = datetime.fromisoformat(value)
        in_utc = parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    except (ValueError, OverflowError):
        in_utc = None
    if in_utc is None or not 0 <= pk <= MAX_PRIMARY_KEY:
        raise DomainError(ErrorCode.INVALID_INPUT, "This cursor is not valid.", field="after")
    return in_utc, pk


def past(position: Sequence[object], order_by: Sequence[tuple[str, bool]]) -> AnyOf:
    """The rows that come after `position` (a value per column) in the order `order_by`
    ((column, descending) pairs): (a, b) is after (x, y) when a is past x, or a = x and b is
    past y. Keyset paging's one rule, for querysets (`.q()`) and hand-written SQL (`.sql()`)."""
    if len(position) != len(order_by):
        raise ValueError("a position has a value for each order_by column")
    alternatives = []
    for index, (column, descending) in enumerate(order_by):
        tied = (Where.of(c, "=", v) for (c, _), v in zip(order_by[:index], position, strict=False))
        beyond = Where.of(column, "<" if descending else ">", position[index])
        alternatives.append(functools.reduce(operator.and_, tied, Where()) & beyond)
    return AnyOf(tuple(alternatives))


def keyset_page(
    queryset: QuerySet[M],
    *,
    field: str,
    after: tuple[str, int] | None,
    first: int,
    descending: bool,
) -> QuerySet[M]:
    """`first + 1` rows ordered by (`field`, id) after the position `after` (the extra row only
    says whether there is a next page)."""
    if after is not None:
        order_by = [(field, descending), ("id", descending)]
        queryset = queryset.filter(past(cursor_position(after), order_by).q())
    order = (f"-{field}", "-id") if descending else (field, "id")
    return queryset.order_by(*order).limit(first + 1)
