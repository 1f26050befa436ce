"""Counts and times each GraphQL operation for /metrics, labelled by its manifest name or `other`.

Only operations whose document is one of the clients' manifest (clients/manifest.json) get their
own label: a client sending new documents with new names cannot make the labels grow.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from strawberry.extensions import SchemaExtension

from bff import metrics
from bff.graphql.persisted import manifest_names, sha256_hex

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from graphql import GraphQLError

    from bff.settings import Settings


class OperationMetrics(SchemaExtension):
    def __init__(self, names: Mapping[str, str]) -> None:
        super().__init__()
        self.names = names

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield  # (a persisted-query refusal ends the request before this resumes: counted there)
        context = self.execution_context
        result = context.result
        refused = bool(context.pre_execution_errors)
        errors = list(context.pre_execution_errors or []) or list(
            (result.errors if result is not None else None) or []
        )
        self._record(started, errors, refused=refused)

    def on_execute(self) -> Iterator[None]:
        query = self.execution_context.query
        name = self.names.get(sha256_hex(query), metrics.OTHER_OPERATION) if query else "other"
        token = metrics.current_operation.set(name)
        try:
            yield
        finally:
            metrics.current_operation.reset(token)

    def _record(self, started: float, errors: list[GraphQLError], *, refused: bool) -> None:
        query = self.execution_context.query
        name = self.names.get(sha256_hex(query), metrics.OTHER_OPERATION) if query else "other"
        outcome = "refused" if refused else "error" if errors else "ok"
        metrics.GRAPHQL_REQUESTS.labels(operation=name, outcome=outcome).inc()
        metrics.GRAPHQL_SECONDS.labels(operation=name).observe(time.perf_counter() - started)
        for error in errors:
            code = (error.extensions or {}).get("code", "UNCODED")
            metrics.GRAPHQL_ERRORS.labels(code=str(code)[:64]).inc()


def operation_metrics(settings: Settings) -> Callable[[], SchemaExtension]:
    """The per-request extension factory, naming the operations of the settings' manifest."""
    names = manifest_names(Path(settings.trusted_documents_manifest))
    return lambda: OperationMetrics(names)
