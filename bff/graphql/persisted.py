"""Persisted queries: Apollo's Automatic Persisted Queries and the trusted-documents manifest.

A request may send `extensions.persistedQuery = {"version": 1, "sha256Hash": ...}` instead of (or
with) its query text. Without the text, the document comes from the manifest of the operations the
clients ship (`clients/manifest.json`, built from `clients/**/*.graphql`) or from a bounded store
of documents registered earlier; a miss is `PERSISTED_QUERY_NOT_FOUND`, and the client retries with
the text, which registers it once its hash checks out. With `TRUSTED_DOCUMENTS_ONLY` only the
manifest's documents run.

`python -m bff.graphql.persisted` writes the manifest (`make manifest`), `--check` fails on drift.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from graphql import (
    FieldNode,
    GraphQLError,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    parse,
    print_ast,
    visit,
)
from strawberry.extensions import SchemaExtension

from bff import metrics
from bff.errors import DomainError
from bff.identity.throttle import Factor, Throttle, throttle_for
from bff.redis_clients import REDIS_FAILURES, mark_redis_failed, redis_usable, shared_redis
from bff.settings import Settings

PERSISTED_QUERY_VERSION = 1
MANIFEST_FORMAT = "apollo-persisted-query-manifest"
REPOSITORY = Path(__file__).resolve().parents[2]
CLIENTS = REPOSITORY / "clients"
_HASH = re.compile(r"[0-9a-f]{64}")
# Registered documents in Redis outlive a deploy but not forever: clients re-register on a miss.
REDIS_TTL_SECONDS = 7 * 24 * 3600
REDIS_PREFIX = "bff:apq:"
logger = logging.getLogger("bff.graphql.persisted")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class PersistedQueryError(GraphQLError):
    """A persisted-query request that cannot run; the code tells the client what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, extensions={"code": code})


def not_found() -> PersistedQueryError:
    # Apollo's link matches this message and code, then resends with the query text.
    return PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")


def not_trusted() -> PersistedQueryError:
    return PersistedQueryError(
        "TRUSTED_DOCUMENT_REQUIRED",
        "This server runs only the operations the web and mobile clients ship "
        "(clients/manifest.json); send one of those by its sha256Hash.",
    )


class QueryStore(Protocol):
    async def get(self, sha256_hash: str) -> str | None: ...
    async def put(self, sha256_hash: str, query: str) -> None: ...


class LocalQueryStore:
    """The most recently used documents of this process: at most `maxsize` of them and
    `max_bytes` of text (UTF-8) in all."""

    def __init__(self, maxsize: int, *, max_bytes: int = 10_000_000) -> None:
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self.bytes = 0
        self._documents: OrderedDict[str, str] = OrderedDict()

    async def get(self, sha256_hash: str) -> str | None:
        query = self._documents.get(sha256_hash)
        if query is not None:
            self._documents.move_to_end(sha256_hash)
        return query

    async def put(self, sha256_hash: str, query: str) -> None:
        size = len(query.encode())
        if size > self.max_bytes:
            return
        if sha256_hash not in self._documents:
            self.bytes += size
        self._documents[sha256_hash] = query
        self._documents.move_to_end(sha256_hash)
        while len(self._documents) > self.maxsize or self.bytes > self.max_bytes:
            _, dropped = self._documents.popitem(last=False)
            self.bytes -= len(dropped.encode())

    def __len__(self) -> int:
        return len(self._documents)


# Registrations are counted in day buckets: a document stored on day d has expired by d + TTL, so
# the buckets of the last TTL days (and today) hold at least every byte Redis still keeps.
_BUCKET_SECONDS = 24 * 3600
_REGISTER_SCRIPT = """
local document = KEYS[1]
if redis.call('EXISTS', document) == 1 then
  redis.call('EXPIRE', document, ARGV[3])
  return 1
end
local total = 0
for index = 2, #KEYS do total = total + tonumber(redis.call('GET', KEYS[index]) or '0') end
local size = string.len(ARGV[1])
if total + size > tonumber(ARGV[2]) then return 0 end
redis.call('SET', document, ARGV[1], 'EX', ARGV[3])
redis.call('INCRBY', KEYS[2], size)
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""


class RedisQueryStore:
    """Documents shared by every process through Redis, behind a local LRU.

    Each expires `ttl_seconds` after its last registration, and Redis takes no new one once the
    documents registered within a TTL reach `redis_max_bytes`. When Redis fails (down, frozen
    past its timeouts) the store serves from and registers into the local LRU only: a client
    told PERSISTED_QUERY_NOT_FOUND sends the text again, so nothing breaks.
    """

    def __init__(
        self,
        url: str,
        *,
        maxsize: int,
        max_bytes: int = 10_000_000,
        redis_max_bytes: int = 50_000_000,
        ttl_seconds: int = REDIS_TTL_SECONDS,
        prefix: str = REDIS_PREFIX,
    ) -> None:
        self.prefix = prefix
        self.url = url
        self.redis = shared_redis(url)
        self.local = LocalQueryStore(maxsize, max_bytes=max_bytes)
        self.redis_max_bytes = redis_max_bytes
        self.ttl_seconds = ttl_seconds
        self._register = self.redis.register_script(_REGISTER_SCRIPT)

    async def get(self, sha256_hash: str) -> str | None:
        query = await self.local.get(sha256_hash)
        if query is not None or not redis_usable(self.url):
            return query
        try:
            raw = await self.redis.get(self.prefix + sha256_hash)
        except REDIS_FAILURES as error:
            mark_redis_failed(self.url, error)
            return None
        if raw is None:
            return None
        query = raw.decode() if isinstance(raw, bytes) else str(raw)
        # A corrupted or foreign value must not run under this hash.
        if sha256_hex(query) != sha256_hash:
            return None
        await self.local.put(sha256_hash, query)
        return query

    async def put(self, sha256_hash: str, query: str) -> None:
        await self.local.put(sha256_hash, query)
        if not redis_usable(self.url):
            return
        today = int(time.time()) // _BUCKET_SECONDS
        buckets = [
            f"{self.prefix}bytes:{today - back}"
            for back in range(self.ttl_seconds // _BUCKET_SECONDS + 2)
        ]
        try:
            stored = await self._register(
                keys=[self.prefix + sha256_hash, *buckets],
                args=[
                    query,
                    self.redis_max_bytes,
                    self.ttl_seconds,
                    self.ttl_seconds + 2 * _BUCKET_SECONDS,
                ],
            )
        except REDIS_FAILURES as error:
            mark_redis_failed(self.url, error)
            return
        if not stored:
            logger.warning("persisted queries: the Redis byte budget is spent, not shared")


@dataclass(frozen=True)
class PersistedQueries:
    """Where documents come from for one schema: the manifest, the store and the mode."""

    manifest: dict[str, str]
    store: QueryStore
    trusted_only: bool
    max_document_bytes: int = 20_000
    throttle: Throttle | None = None

    async def document(  # noqa: C901 (one branch per case of the protocol)
        self, query: str | None, extensions: dict[str, Any] | None
    ) -> tuple[str | None, str | None]:
        """The query text to run for this request, and the hash to register it under once it has
        parsed and validated (None: nothing to register); or a PersistedQueryError."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if self.trusted_only and (query is None or sha256_hex(query) not in self.manifest):
                raise not_trusted()
            return query, None
        sha256_hash = _requested_hash(persisted)
        if query:
            if sha256_hex(query) != sha256_hash:
                raise PersistedQueryError(
                    "PERSISTED_QUERY_HASH_MISMATCH", "provided sha does not match query"
                )
            if sha256_hash in self.manifest:
                return query, None
            if self.trusted_only:
                raise not_trusted()
            if len(query.encode()) > self.max_document_bytes:
                raise PersistedQueryError(
                    "PERSISTED_QUERY_TOO_LARGE",
                    f"A document registered by hash holds at most {self.max_document_bytes} "
                    "bytes; send a larger one without persistedQuery.",
                )
            return query, sha256_hash
        known = self.manifest.get(sha256_hash)
        if known is not None:
            return known, None
        if self.trusted_only:
            raise not_trusted()
        stored = await self.store.get(sha256_hash)
        if stored is None:
            raise not_found()
        return stored, None

    async def register(self, sha256_hash: str, query: str, *, address: str | None) -> None:
        """Store a document that parsed and validated, within the address's registrations."""
        if self.throttle is not None:
            try:
                await self.throttle.check(
                    factor=Factor.QUERY_REGISTRATION, account=None, address=address
                )
            except DomainError:
                logger.info("persisted queries: registration limit reached for an address")
                return
        await self.store.put(sha256_hash, query)


def _requested_hash(persisted: object) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != PERSISTED_QUERY_VERSION:
        raise PersistedQueryError(
            "PERSISTED_QUERY_NOT_SUPPORTED", "Only persisted query version 1 is supported."
        )
    sha256_hash = persisted.get("sha256Hash")
    if not isinstance(sha256_hash, str) or not _HASH.fullmatch(sha256_hash):
        raise PersistedQueryError(
            "PERSISTED_QUERY_HASH_MISMATCH", "sha256Hash must be 64 lowercase hex digits."
        )
    return sha256_hash


class PersistedQueryExtension(SchemaExtension):
    """Puts the persisted document into the request before anything parses it, and registers a
    new one only when it is about to execute (it parsed and passed validation and the limits)."""

    def __init__(self, persisted: PersistedQueries) -> None:
        super().__init__()
        self.persisted = persisted
        self.to_register: str | None = None

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context
        try:
            context.query, self.to_register = await self.persisted.document(
                context.query, context.operation_extensions
            )
        except PersistedQueryError as error:
            # Refused before the other extensions started: count it here for /metrics.
            metrics.GRAPHQL_REQUESTS.labels(
                operation=metrics.OTHER_OPERATION, outcome="refused"
            ).inc()
            metrics.GRAPHQL_ERRORS.labels(code=str((error.extensions or {}).get("code"))).inc()
            raise
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if self.to_register is not None and context.query is not None:
            address = getattr(context.context, "client_ip", None)
            await self.persisted.register(self.to_register, context.query, address=address)
        yield


def persisted_queries(settings: Settings) -> Callable[[], SchemaExtension]:
    """The per-request extension factory for these settings (one store per schema)."""
    store: QueryStore = (
        RedisQueryStore(
            settings.redis_url,
            maxsize=settings.persisted_queries_max,
            max_bytes=settings.persisted_queries_cache_bytes,
            redis_max_bytes=settings.persisted_queries_redis_bytes,
            ttl_seconds=int(settings.persisted_queries_ttl.total_seconds()),
        )
        if settings.redis_url
        else LocalQueryStore(
            settings.persisted_queries_max, max_bytes=settings.persisted_queries_cache_bytes
        )
    )
    persisted = PersistedQueries(
        manifest=load_manifest(Path(settings.trusted_documents_manifest)),
        store=store,
        trusted_only=settings.trusted_documents_only,
        max_document_bytes=settings.persisted_query_max_bytes,
        throttle=throttle_for(settings),
    )
    return lambda: PersistedQueryExtension(persisted)


@cache
def load_manifest(path: Path) -> dict[str, str]:
    """hash -> document of a manifest file; empty when there is none (APQ still works)."""
    if not path.is_absolute():
        path = REPOSITORY / path
    if not path.exists():
        return {}
    manifest = json.loads(path.read_text())
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("version") != 1:
        raise ValueError(f"{path} is not an {MANIFEST_FORMAT} version 1")
    documents = {operation["id"]: operation["body"] for operation in manifest["operations"]}
    for sha256_hash, body in documents.items():
        if sha256_hex(body) != sha256_hash:
            raise ValueError(f"{path}: the body of {sha256_hash} does not have that hash")
    return documents


@cache
def manifest_names(path: Path) -> dict[str, str]:
    """hash -> operation name of a manifest file's operations (checked by load_manifest)."""
    documents = load_manifest(path)
    if not documents:
        return {}
    if not path.is_absolute():
        path = REPOSITORY / path
    operations = json.loads(path.read_text())["operations"]
    return {op["id"]: op["name"] for op in operations if op["id"] in documents}


class _AddTypename(Visitor):
    """Adds `__typename` to every selection set below the root, as Apollo Client does."""

    def leave_selection_set(
        self, node: SelectionSetNode, _key: object, parent: object, *_: object
    ) -> SelectionSetNode | None:
        if isinstance(parent, OperationDefinitionNode):
            return None
        names = {s.name.value for s in node.selections if isinstance(s, FieldNode)}
        if "__typename" in names:
            return None
        typename = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())
        return SelectionSetNode(selections=(*node.selections, typename))


def client_operation(path: Path) -> dict[str, str]:
    """The manifest entry of one .graphql file: exactly one named operation (and its fragments)."""
    document = parse(path.read_text())
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].name is None:
        raise ValueError(f"{path}: put exactly one named operation in each file")
    body = print_ast(visit(document, _AddTypename()))
    return {
        "id": sha256_hex(body),
        "name": operations[0].name.value,
        "type": operations[0].operation.value,
        "body": body,
    }


def client_operation_files(clients: Path = CLIENTS) -> list[Path]:
    return sorted(p for p in clients.rglob("*.graphql") if "node_modules" not in p.parts)


def build_manifest(clients: Path = CLIENTS) -> str:
    """The manifest of every operation under `clients/`, in Apollo's manifest format."""
    operations = [client_operation(path) for path in client_operation_files(clients)]
    names = [operation["name"] for operation in operations]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"operation names must be unique across clients/: {duplicates}")
    manifest = {"format": MANIFEST_FORMAT, "version": 1, "operations": operations}
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write clients/manifest.json from clients/.")
    parser.add_argument("--output", type=Path, default=CLIENTS / "manifest.json")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    args = parser.parse_args(argv)
    manifest = build_manifest()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != manifest:
            sys.stderr.write(f"{args.output} is out of date: run `make manifest` and commit it\n")
            return 1
        sys.stdout.write(f"{args.output} is up to date\n")
        return 0
    args.output.write_text(manifest)
    sys.stdout.write(
        f"wrote {args.output} ({len(json.loads(manifest)['operations'])} operations)\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
