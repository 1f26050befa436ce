"""Subscriptions over websockets, queries and mutations over HTTP: each on its own transport."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

SUBSCRIPTION_OVER_HTTP = (
    "Subscriptions are served over websockets: connect to /graphql with the "
    "graphql-transport-ws protocol."
)
OPERATION_OVER_WEBSOCKET = "Send queries and mutations over HTTP: POST /graphql."


class OneTransportPerOperationType(SchemaExtension):
    """Refuse a subscription sent over plain HTTP (Strawberry would run it like a query and fail
    on the resolver's stream, a masked and logged unexpected error), and a query or mutation sent
    over a websocket: a connection's context lives as long as the connection, so its loaders
    would serve stale rows, and the HTTP-only guards (body-size limit, access log) would not
    apply."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        over_websocket = isinstance(execution.context.request, WebSocket)
        is_subscription = execution.operation_type is OperationType.SUBSCRIPTION
        if is_subscription != over_websocket:
            message = OPERATION_OVER_WEBSOCKET if over_websocket else SUBSCRIPTION_OVER_HTTP
            execution.result = ExecutionResult(
                data=None, errors=[GraphQLError(message, extensions={"code": "BAD_REQUEST"})]
            )
        yield
