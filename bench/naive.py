"""The naive baseline: the same app and schema with DataLoader batching and caching and the
parse/validation caches switched off (bench-only: `uvicorn bench.naive:build_naive_app --factory`).
"""

from __future__ import annotations

from aiodataloader import DataLoader
from starlette.applications import Starlette

from bff.app import build_app
from bff.graphql import documents


def switch_loaders(*, batching: bool) -> None:
    """Every DataLoader made from now on batches and caches, or loads each key on its own."""
    DataLoader.batch = batching
    DataLoader.cache = batching


def build_naive_app() -> Starlette:
    switch_loaders(batching=False)
    # Every request parses and validates its document again.
    documents.cached_parse = documents.cached_parse.__wrapped__  # type: ignore[assignment]
    documents.cached_validation = documents.cached_validation.__wrapped__  # type: ignore[assignment]
    return build_app()
