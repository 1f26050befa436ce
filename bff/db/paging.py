"""Keyset pages over querysets: stable while rows are added, one query per page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

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
        value, pk = cursor_position(after)
        op = "lt" if descending else "gt"
        before: dict[str, object] = {f"{field}__{op}": value}
        tied: dict[str, object] = {field: value, f"id__{op}": pk}
        queryset = queryset.filter(Q(**before) | Q(**tied))  # type: ignore[arg-type]
    order = (f"-{field}", "-id") if descending else (field, "id")
    return queryset.order_by(*order).limit(first + 1)
