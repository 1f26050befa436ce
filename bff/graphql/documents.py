"""What every document goes through before execution, as one schema extension: the token limit,
the schema's extra validation rules, and parsing and validation cached by the document's text.

It replaces Strawberry's MaxTokensLimiter, AddValidationRules, ParserCache and ValidationCache
(four extensions, each with its hooks entered per request) with one that does the same. Its
validation cache is keyed by the text rather than the parsed document: Strawberry's hashes the
document's syntax tree, node by node, on every request.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from graphql import parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema

# Each cache holds the text of this many documents at most (MAX_QUERY_BYTES bounds each text).
CACHED_DOCUMENTS = 512


@lru_cache(maxsize=CACHED_DOCUMENTS)
def cached_parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


@lru_cache(maxsize=CACHED_DOCUMENTS)
def cached_validation(
    schema: GraphQLSchema,
    query: str,
    max_tokens: int,
    rules: tuple[type[ASTValidationRule], ...],
) -> list[GraphQLError]:
    return validate_document(schema, cached_parse(query, max_tokens), rules)


class DocumentChecks(SchemaExtension):
    def __init__(self, *, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]) -> None:
        super().__init__()
        self.max_tokens = max_tokens
        self.rules = rules

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = context.validation_rules + self.rules
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            context.graphql_document = cached_parse(context.query, self.max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is not None:
            context.pre_execution_errors = cached_validation(
                context.schema._schema,  # noqa: SLF001 (graphql-core's schema of Strawberry's)
                context.query,
                self.max_tokens,
                tuple(context.validation_rules),
            )
        yield


def document_checks(
    *, max_tokens: int, rules: Sequence[type[ASTValidationRule]]
) -> Callable[[], DocumentChecks]:
    """The per-request extension factory (the caches live at module level)."""
    fixed = tuple(rules)
    return lambda: DocumentChecks(max_tokens=max_tokens, rules=fixed)
