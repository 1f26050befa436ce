"""The Node interface (its ids from bff.ids) and keyset-paginated Relay connections."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from bff.errors import DomainError, ErrorCode
from bff.ids import to_global_id
from bff.json_text import decode_json

T = TypeVar("T")


def node_id(type_name: str, pk: int) -> strawberry.ID:
    """The `id` of a Node: the row's global id."""
    return strawberry.ID(to_global_id(type_name, pk))


@strawberry.interface
class Node:
    id: strawberry.ID


class HasPk(Protocol):
    """An object type that keeps its row's key (`pk: strawberry.Private[int]`): the `root` of
    field resolvers declared in another package than the type, e.g. `Member`'s loyalty fields."""

    @property
    def pk(self) -> int: ...


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


# A row's keyset position: (sort key, primary key), what a cursor encodes.
CursorKey = tuple[datetime | str | int, int]


class _KeyedEdge(Edge[T]):
    """An edge that encodes its cursor when it is read, i.e. only when the document selects it
    (Strawberry reads a plain field with getattr): most screens never ask for it."""

    def __init__(self, node: T, key: CursorKey) -> None:
        self.node = node
        self.key = key

    @property
    def cursor(self) -> str:  # type: ignore[override]
        return encode_cursor(*self.key)


class _KeyedPageInfo(PageInfo):
    """Page info whose cursors are encoded when read, like `_KeyedEdge`'s."""

    def __init__(
        self, *, has_next_page: bool, has_previous_page: bool, keys: Sequence[CursorKey]
    ) -> None:
        self.has_next_page = has_next_page
        self.has_previous_page = has_previous_page
        self.keys = keys

    @property
    def start_cursor(self) -> str | None:  # type: ignore[override]
        return encode_cursor(*self.keys[0]) if self.keys else None

    @property
    def end_cursor(self) -> str | None:  # type: ignore[override]
        return encode_cursor(*self.keys[-1]) if self.keys else None


@dataclass(frozen=True)
class Page:
    """A validated page request: how many rows, and after which keyset position."""

    first: int
    after: tuple[str, int] | None


def encode_cursor(sort_key: datetime | str | int, pk: int) -> str:
    value = sort_key.isoformat() if isinstance(sort_key, datetime) else sort_key
    raw = json.dumps([value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """The (sort key, pk) of a cursor; INVALID_INPUT when it was not made by encode_cursor."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded: Any = decode_json(base64.urlsafe_b64decode(padded.encode()))
        value, pk = decoded  # a non-pair raises TypeError or ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "This cursor is not valid.", field="after"
        ) from None
    if not isinstance(value, str | int) or not isinstance(pk, int) or isinstance(pk, bool):
        raise DomainError(ErrorCode.INVALID_INPUT, "This cursor is not valid.", field="after")
    return str(value), pk


def selects(info: strawberry.Info[Any, Any], *path: str) -> bool:
    """Whether the document selects the field `path` below the current one (by field name,
    through fragments): a connection resolver reads what its nodes will need only when they
    need it, so no document gets a statement it did not ask for."""
    return any(_reaches(field.selections, path) for field in info.selected_fields)


def _reaches(selections: list[Selection], path: tuple[str, ...]) -> bool:
    if not path:
        return True
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == path[0] and _reaches(selection.selections, path[1:]):
                return True
        elif _reaches(selection.selections, path):  # an inline fragment or a spread
            return True
    return False


def make_page(first: int | None, after: str | None, *, max_page_size: int) -> Page:
    """Check `first` (0..max_page_size) and decode `after`."""
    size = 20 if first is None else first
    if size < 0 or size > max_page_size:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"first must be between 0 and {max_page_size}.", field="first"
        )
    return Page(first=size, after=decode_cursor(after) if after else None)


def build_connection(
    nodes: Sequence[T],
    keys: Sequence[CursorKey],
    *,
    page: Page,
) -> Connection[T]:
    """A connection from up to `page.first + 1` rows and their keyset positions: the extra row
    only tells there is more. Cursors are encoded only if the document reads them."""
    has_next = len(nodes) > page.first
    shown = keys[: page.first]
    edges: list[Edge[T]] = [
        _KeyedEdge(node, key) for node, key in zip(nodes[: page.first], shown, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=_KeyedPageInfo(
            has_next_page=has_next, has_previous_page=page.after is not None, keys=shown
        ),
    )
