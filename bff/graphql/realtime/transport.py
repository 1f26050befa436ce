"""Subscriptions run over websockets only."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

OVER_HTTP = (
    "Subscriptions are served over websockets: connect to /graphql with the "
    "graphql-transport-ws protocol."
)


class SubscriptionsOverWebSocketOnly(SchemaExtension):
    """Refuse a subscription sent over plain HTTP with one clear error; Strawberry would run it
    like a query and fail on the resolver's stream (a masked, logged unexpected error)."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.operation_type is OperationType.SUBSCRIPTION and not isinstance(
            execution.context.request, WebSocket
        ):
            execution.result = ExecutionResult(
                data=None, errors=[GraphQLError(OVER_HTTP, extensions={"code": "BAD_REQUEST"})]
            )
        yield
