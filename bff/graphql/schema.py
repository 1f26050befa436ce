"""The schema: root types composed from the per-domain pieces, and its guard rails."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from bff.graphql.identity.queries import IdentityQuery
from bff.graphql.node import NodeQuery
from bff.graphql.persisted import persisted_queries
from bff.settings import Settings


@strawberry.type
class Query(IdentityQuery, NodeQuery):
    pass


def build_schema(settings: Settings) -> strawberry.Schema:
    """The executable schema with the limits and switches these settings ask for."""
    # Factories: Strawberry builds fresh extensions per request; the caches live at module level.
    extensions = [
        persisted_queries(settings),  # first: it supplies the document the others read
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
    ]
    return strawberry.Schema(
        query=Query,
        extensions=extensions,
        config=StrawberryConfig(
            disable_field_suggestions=not settings.introspection_enabled,
            batching_config={"max_operations": settings.max_operations_per_request},
        ),
    )


def schema_sdl() -> str:
    """The SDL that `bff export-schema` writes to schema.graphql."""
    return str(build_schema(Settings(_env_file=None))) + "\n"  # type: ignore[call-arg,unused-ignore]
