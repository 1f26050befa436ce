"""Keyset pages over querysets: stable while rows are added, one query per page."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from bff.errors import DomainError

M = TypeVar("M", bound=Model)


def cursor_time(value: str) -> datetime:
    """The time inside a cursor; INVALID_INPUT when it is not an aware ISO 8601 time."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise DomainError("INVALID_INPUT", "This cursor is not valid.", field="after") from None
    if parsed.tzinfo is None:
        raise DomainError("INVALID_INPUT", "This cursor is not valid.", field="after")
    return parsed


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
        value, pk = cursor_time(after[0]), after[1]
        op = "lt" if descending else "gt"
        before: dict[str, object] = {f"{field}__{op}": value}
        tied: dict[str, object] = {field: value, f"id__{op}": pk}
        queryset = queryset.filter(Q(**before) | Q(**tied))  # type: ignore[arg-type]
    order = (f"-{field}", "-id") if descending else (field, "id")
    return queryset.order_by(*order).limit(first + 1)
