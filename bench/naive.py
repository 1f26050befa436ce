"""The naive baseline: the same app and schema with DataLoader batching and caching and the
parse/validation caches switched off (bench-only: `uvicorn bench.naive:build_naive_app --factory`).
"""

from __future__ import annotations

from collections.abc import Iterator

from aiodataloader import DataLoader
from starlette.applications import Starlette
from strawberry.extensions import SchemaExtension

import bff.graphql.schema
from bff.app import build_app


class _NoCache(SchemaExtension):
    def __init__(self, maxsize: int | None = None) -> None:
        super().__init__()
        del maxsize

    def on_operation(self) -> Iterator[None]:
        yield


def switch_loaders(*, batching: bool) -> None:
    """Every DataLoader made from now on batches and caches, or loads each key on its own."""
    DataLoader.batch = batching
    DataLoader.cache = batching


def build_naive_app() -> Starlette:
    switch_loaders(batching=False)
    bff.graphql.schema.ParserCache = _NoCache  # type: ignore[misc,assignment]
    bff.graphql.schema.ValidationCache = _NoCache  # type: ignore[misc,assignment]
    return build_app()
