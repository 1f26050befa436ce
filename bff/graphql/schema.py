"""The schema: root types composed from the per-domain pieces, and its guard rails."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.extensions.tracing import OpenTelemetryExtension
from strawberry.schema.config import StrawberryConfig

from bff.graphql.compiled.extension import CompiledDocuments, compiled_execution
from bff.graphql.documents import document_checks
from bff.graphql.errors import MaskUnexpectedErrors, log_errors
from bff.graphql.identity.mutations import IdentityMutation
from bff.graphql.identity.queries import IdentityQuery
from bff.graphql.limits import max_directives_rule
from bff.graphql.loyalty.mutations import CardsMutation, ProgramMutation
from bff.graphql.loyalty.program import ProgramQuery
from bff.graphql.messages.mutations import MessagesMutation
from bff.graphql.metrics import operation_metrics
from bff.graphql.node import NodeQuery
from bff.graphql.offers.mutations import OffersMutation
from bff.graphql.offers.queries import OffersQuery
from bff.graphql.persisted import persisted_queries
from bff.graphql.profile.mutations import ProfileMutation
from bff.graphql.realtime.subscriptions import Subscription
from bff.graphql.realtime.transport import OneTransportPerOperationType
from bff.graphql.rewards.mutations import RewardsMutation
from bff.graphql.rewards.queries import RewardsQuery
from bff.settings import Settings
from bff.tracing import tracer_provider

if TYPE_CHECKING:
    from graphql import ASTValidationRule
    from strawberry.types import ExecutionContext


@strawberry.type
class Query(IdentityQuery, NodeQuery, OffersQuery, ProgramQuery, RewardsQuery):
    pass


@strawberry.type
class Mutation(
    IdentityMutation,
    ProfileMutation,
    CardsMutation,
    ProgramMutation,
    OffersMutation,
    RewardsMutation,
    MessagesMutation,
):
    pass


class Schema(strawberry.Schema):
    compiled_documents: CompiledDocuments | None = None

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Called before masking, so the log gets the original error and its stack."""
        del execution_context
        log_errors(errors)


def build_schema(settings: Settings) -> strawberry.Schema:
    """The executable schema with the limits and switches these settings ask for."""
    # The rule classes are made once, so the validation cache (keyed by the rules) hits across
    # requests.
    rules: list[type[ASTValidationRule]] = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        max_directives_rule(settings.max_directives),
    ]
    if not settings.introspection_enabled:
        rules.append(NoSchemaIntrospectionCustomRule)
    # Factories: Strawberry builds fresh extensions per request; the caches live at module level.
    extensions = [
        operation_metrics(settings),  # first: it times and counts everything, refusals too
        persisted_queries(settings),  # it supplies the document the others read
        # the token limit, the rules above, parsing and validation cached by the text
        document_checks(max_tokens=settings.max_tokens, rules=rules),
        MaskUnexpectedErrors,
        OneTransportPerOperationType,
    ]
    compiled_documents, compiled_extension = compiled_execution(settings)
    provider = tracer_provider(settings)
    if provider is not None:
        # Resolver arguments stay out of the spans: login's carry passwords.
        extensions.append(
            lambda: OpenTelemetryExtension(tracer_provider=provider, arg_filter=_no_arguments)
        )
    # Last: it runs a compiled plan where Strawberry would execute, after every other hook.
    extensions.append(compiled_extension)
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(
            disable_field_suggestions=not settings.introspection_enabled,
            batching_config={"max_operations": settings.max_operations_per_request},
        ),
    )
    compiled_documents.prepare(schema)
    schema.compiled_documents = compiled_documents
    return schema


def _no_arguments(_arguments: dict[str, Any], _info: object) -> dict[str, Any]:
    return {}


def schema_sdl() -> str:
    """The SDL that `bff export-schema` writes to schema.graphql."""
    return str(build_schema(Settings(_env_file=None))) + "\n"  # type: ignore[call-arg,unused-ignore]
