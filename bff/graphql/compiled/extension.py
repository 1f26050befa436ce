"""Where compiled plans run: a schema extension at Strawberry's execution step.

Everything before execution stays Strawberry's (persisted documents, parsing, limits,
validation); at execution, a query whose document is compiled runs its plan and hands Strawberry
the result, which then goes through the same error logging and masking, metrics and encoding. A
document is compiled at start-up when it is one of the manifest's, else once it has been seen
`COMPILED_EXECUTION_THRESHOLD` times; a document the compiler refuses runs on Strawberry.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphql import ExecutionResult, OperationType, parse
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType as StrawberryOperationType

from bff import metrics
from bff.db.connection import one_connection
from bff.graphql.compiled.plan import CompiledDocument, Execution, NotCompilable, compile_document
from bff.graphql.persisted import load_manifest, manifest_names, sha256_hex

if TYPE_CHECKING:
    import strawberry
    from graphql import DocumentNode

    from bff.settings import Settings

logger = logging.getLogger("bff.graphql.compiled")

# The key of a compiled document: its text and the operation name the request gave.
Key = tuple[str, str | None]


class CompiledDocuments:
    """One schema's compiled documents: the manifest's (all kept) and the most recently used of
    the others, plus how often each other document was seen and why a refused one was."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.compiled_execution
        self.threshold = settings.compiled_execution_threshold
        self.cache_size = settings.compiled_execution_cache_size
        self.manifest_path = Path(settings.trusted_documents_manifest)
        self.manifest: dict[Key, CompiledDocument | None] = {}
        self.refusals: dict[str, str] = {}  # manifest operation name -> why it is not compiled
        self.cache: OrderedDict[Key, CompiledDocument | None] = OrderedDict()
        self.seen: OrderedDict[str, int] = OrderedDict()  # sha256 of text + name -> times
        self.schema: strawberry.Schema | None = None

    def prepare(self, schema: strawberry.Schema) -> None:
        """Compile the manifest's query documents (start-up)."""
        self.schema = schema
        if not self.enabled:
            return
        names = manifest_names(self.manifest_path)
        for sha256_hash, body in load_manifest(self.manifest_path).items():
            name = names.get(sha256_hash)
            document = parse(body)
            compiled = self._compile(document, name)
            if isinstance(compiled, str):
                if compiled != "skip":
                    self.refusals[name or sha256_hash] = compiled
                compiled_or_none = None
            else:
                compiled_or_none = compiled
            self.manifest[body, name] = compiled_or_none
            self.manifest[body, None] = compiled_or_none

    def compiled_names(self) -> list[str]:
        """The manifest operations served compiled."""
        names = manifest_names(self.manifest_path)
        documents = load_manifest(self.manifest_path)
        return sorted(
            names[h]
            for h, body in documents.items()
            if h in names and self.manifest.get((body, names[h])) is not None
        )

    def _compile(self, document: DocumentNode, name: str | None) -> CompiledDocument | str:
        schema = self.schema
        if schema is None:
            return "the schema is not prepared yet"
        operations = [d for d in document.definitions if getattr(d, "operation", None)]
        if operations and all(d.operation is not OperationType.QUERY for d in operations):  # type: ignore[attr-defined]
            return "skip"  # mutations and subscriptions: not for the compiler
        try:
            return compile_document(
                schema._schema,  # noqa: SLF001 (the graphql-core schema Strawberry built)
                schema.config,
                schema.schema_converter.scalar_registry,
                document,
                name,
            )
        except NotCompilable as refusal:
            return str(refusal)
        except Exception as error:  # a bug of the compiler: the document stays on Strawberry
            logger.exception("compiling a document failed")
            return f"the compiler failed: {error!r}"

    def lookup(
        self, query: str, document: DocumentNode, name: str | None
    ) -> CompiledDocument | None:
        """The compiled document for this request, compiling it once it was seen often enough."""
        key = (query, name)
        if key in self.manifest:
            return self.manifest[key]
        if key in self.cache:
            self.cache.move_to_end(key)
            return self.cache[key]
        if self.cache_size == 0:
            return None
        digest = sha256_hex(query) + (name or "")
        times = self.seen.pop(digest, 0) + 1
        if times < self.threshold:
            self.seen[digest] = times
            while len(self.seen) > 4 * self.cache_size:
                self.seen.popitem(last=False)
            return None
        compiled = self._compile(document, name)
        result = compiled if isinstance(compiled, CompiledDocument) else None
        if result is None:
            logger.debug("not compiled: %s", compiled)
        self.cache[key] = result
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        return result


class CompiledExecution(SchemaExtension):
    """The execution step of a request: a query runs on one pooled connection
    (`bff.db.connection.one_connection`), on its compiled plan when its document has one, else
    on Strawberry; mutations and subscriptions run on Strawberry, a connection per statement
    (they may wait for a password hash, which must not hold a connection)."""

    def __init__(self, documents: CompiledDocuments) -> None:
        super().__init__()
        self.documents = documents

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        # Strawberry found the operation's type before validation (and refused an unknown one).
        if context.operation_type is not StrawberryOperationType.QUERY:
            self._count(compiled=False)
            yield
            return
        async with one_connection():
            result = await self._run_compiled()
            if result is not None:
                context.result = result
            self._count(compiled=result is not None)
            yield

    async def _run_compiled(self) -> ExecutionResult | None:
        context = self.execution_context
        documents = self.documents
        if (
            not documents.enabled
            or context.query is None
            or context.graphql_document is None
            or context.result is not None
        ):
            return None
        compiled = documents.lookup(context.query, context.graphql_document, context.operation_name)
        if compiled is None:
            return None
        try:
            return await run_compiled(compiled, context.context, context.variables)
        except Exception:
            # A bug of the compiler must not fail a request Strawberry can answer.
            logger.exception("compiled execution failed; running on Strawberry")
            return None

    @staticmethod
    def _count(*, compiled: bool) -> None:
        metrics.GRAPHQL_EXECUTIONS.labels(
            operation=metrics.current_operation.get(),
            executor="compiled" if compiled else "strawberry",
        ).inc()


async def run_compiled(
    compiled: CompiledDocument, request_context: object, variables: dict[str, Any] | None
) -> ExecutionResult | None:
    """The result of one request on a compiled document, as graphql-core's execute gives it;
    None when these variables have no plan (the request runs on Strawberry)."""
    coerced = compiled.coerce_variables(variables)
    if isinstance(coerced, list):
        return ExecutionResult(data=None, errors=coerced)
    plan = compiled.plan(coerced)
    if plan is None:
        return None
    execution = Execution(compiled, request_context, coerced)
    data, errors = await execution.run(plan)
    return ExecutionResult(data=data, errors=errors or None)


def compiled_execution(
    settings: Settings,
) -> tuple[CompiledDocuments, Callable[[], SchemaExtension]]:
    """The schema's compiled documents (call `prepare` once the schema exists) and the
    per-request extension factory."""
    documents = CompiledDocuments(settings)
    return documents, lambda: CompiledExecution(documents)
