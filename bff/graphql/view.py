"""The `/graphql` endpoint: Strawberry's ASGI view, speaking GraphQL over HTTP as the spec says.

Strawberry answers `application/json` only. This view also answers
`application/graphql-response+json` to clients that accept it, with the spec's status codes
(400 and no `data` entry for a request that never reached execution), and turns every refusal
into a JSON GraphQL error instead of plain text.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from bff.graphql.context import Context
from bff.graphql.realtime.connection import authenticate_connection
from bff.graphql.session import cross_site_refusal
from bff.json_text import (
    JSONRefusedError,
    decode_json,
    document_literal_problem,
    json_problem,
)

if TYPE_CHECKING:
    import strawberry
    from cross_web import AsyncHTTPRequestAdapter
    from starlette.types import Receive, Scope, Send
    from starlette.websockets import WebSocket
    from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
    from strawberry.http.base import BaseRequestProtocol

    from bff.settings import Settings

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
# A GET carrying any of these is an operation to run, never a request for the IDE.
GRAPHQL_GET_PARAMETERS = ("query", "extensions", "operationName", "variables")
# What GraphiQL opens with: sign in with the demo member (cookie), then the web dashboard.
GRAPHIQL_EXAMPLE = """# The member portal's dashboard, as the web app asks for it.
# 1. Put the password `make run` printed into DemoLogin and run it (the session
#    travels in a cookie, as in the portal).
# 2. Run WebDashboard. Ctrl-Enter runs the operation under the cursor.

mutation DemoLogin {
  login(input: {
    email: "demo@example.com"
    password: "the password make run printed"
    sessionTransport: COOKIE
  }) {
    twoFactorChallenge
    member { id firstName }
    userErrors { field code message }
  }
}

query WebDashboard {
  me {
    firstName
    lastName
    programStatus
    cards { id number label status }
    points { available pending expiringSoon nextExpiryAt }
    transactions(first: 5) { edges { node { occurredAt storeId total pointsEarned } } }
    offers(first: 5) { edges { node { title discountPercent validUntil activated } } }
  }
}
"""


def negotiate_media_type(accept: str) -> str:
    """`application/graphql-response+json` when the client prefers it, else `application/json`.

    Clients that send no Accept, `*/*` or only `application/json` are the older ones the spec
    keeps on `application/json`.
    """
    quality = {GRAPHQL_RESPONSE_JSON: 0.0, JSON: 0.0}
    for media_range in accept.split(","):
        media_type, params = parse_content_type(media_range)
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            q = 0.0
        if media_type in quality:
            quality[media_type] = max(quality[media_type], q)
        elif media_type in {"*/*", "application/*"}:
            quality[JSON] = max(quality[JSON], q)
    preferred = quality[GRAPHQL_RESPONSE_JSON]
    return GRAPHQL_RESPONSE_JSON if preferred > 0 and preferred >= quality[JSON] else JSON


def is_request_error(result: GraphQLHTTPResponse) -> bool:
    """The operation never ran (syntax, validation or variable errors): no error has a path."""
    errors = result.get("errors")
    return (
        result.get("data") is None
        and bool(errors)
        and all(isinstance(error, dict) and "path" not in error for error in errors or ())
    )


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: strawberry.Schema, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            connection_init_wait_timeout=settings.subscription_init_timeout,
            allowed_origins=settings.cors_origins,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.settings = settings

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """Only a bare GET (no GraphQL parameter) that asks for HTML gets the IDE: a GET with a
        persisted query's hash runs whatever its Accept header (Apollo Client sends `*/*`)."""
        params = request.query_params
        return (
            request.method == "GET"
            and not any(params.get(name) is not None for name in GRAPHQL_GET_PARAMETERS)
            and "text/html" in request.headers.get("accept", "")
        )

    @cached_property
    def graphql_ide_html(self) -> str:
        """Strawberry's GraphiQL, opening with the dashboard example."""
        html = super().graphql_ide_html
        start = html.index("const EXAMPLE_QUERY = `")
        end = html.index("`;", start)
        example = GRAPHIQL_EXAMPLE.replace("\\", "\\\\").replace("`", "\\`")
        return html[:start] + "const EXAMPLE_QUERY = `" + example + html[end:]

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A websocket needs a live session: the cookie, or `{"authorization": "Bearer <token>"}`
        in connection_init. Without one Strawberry closes it with 4403."""
        if await authenticate_connection(context) is None:
            raise ConnectionRejectionError
        return UnsetType()  # acknowledge with no payload

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        if isinstance(request, Request) and (refusal := cross_site_refusal(request, self.settings)):
            raise HTTPException(403, refusal)  # CSRF: a cookie request from a foreign site
        client = request.client
        return Context(
            request=request,
            response=response if not isinstance(response, type(request)) else None,  # type: ignore[arg-type]
            settings=self.settings,
            request_id=request.scope.get("state", {}).get("request_id", "-"),
            client_ip=client.host if client else "unknown",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.run(request)
        except HTTPException as error:
            response = self.error_response(request, error)
        await response(scope, receive, send)

    def error_response(self, request: Request, error: HTTPException) -> Response:
        """A refusal before execution, as a GraphQL error in the negotiated media type."""
        status, headers = error.status_code, {}
        if isinstance(error.__cause__, InvalidOperationTypeError) and request.method == "GET":
            # The spec: a mutation over GET is 405, and says where to send it instead.
            status, headers = 405, {"Allow": "POST"}
        media_type = negotiate_media_type(request.headers.get("accept", ""))
        body = self.encode_body({"errors": [{"message": error.reason}]})
        return Response(body, status_code=status, headers=headers, media_type=media_type)

    def encode_body(self, data: object) -> str | bytes:
        """An HTTP response body: orjson (UTF-8 bytes, no escapes), several times faster than
        json.dumps; json.dumps for what only it accepts (integers over 64 bits). Websocket
        messages keep `encode_json`: graphql-ws wants text frames, and bytes go out binary."""
        try:
            return orjson.dumps(data)
        except orjson.JSONEncodeError:
            return self.encode_json(data)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate_media_type(request.headers.get("accept", ""))
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        status = 200
        for result in response_data if isinstance(response_data, list) else [response_data]:
            if is_request_error(result):
                # "If an error was raised before execution begins, the data entry should not be
                # present in the result" (GraphQL spec, Response).
                result.pop("data", None)
                if sub_response.media_type == GRAPHQL_RESPONSE_JSON and not isinstance(
                    response_data, list
                ):
                    status = 400
        response = Response(
            self.encode_body(response_data),
            status_code=sub_response.status_code or status,
            media_type=sub_response.media_type or JSON,
        )
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        return response

    def decode_json(self, data: str | bytes) -> object:
        """Every JSON of this endpoint (POST bodies, GET `variables` and `extensions`, websocket
        frames) through the one bounded decoder; a websocket closes with 4400 on a refusal."""
        return decode_json(data)

    def parse_json(self, data: str | bytes) -> object:
        try:
            return decode_json(data)
        except JSONRefusedError as error:
            raise HTTPException(400, f"The request's JSON is refused: {error.msg}.") from None
        except ValueError:
            raise HTTPException(400, "Unable to parse request body as JSON") from None

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's parsing, after refusing what it would let through or crash on."""
        if request.method == "POST":
            content_type, _ = parse_content_type(request.content_type or "")
            if content_type != JSON:
                raise HTTPException(
                    415, "Send the operation as JSON, with Content-Type: application/json."
                )
            # Starlette caches the body, so Strawberry reads it again for free.
            self.check_request_shape(self.parse_json(await request.get_body()))
        parsed = await super().parse_http_body(request)
        for operation in parsed if isinstance(parsed, list) else [parsed]:
            self.check_request_text(operation)
            self.check_document_size(operation)
        return parsed

    def check_document_size(self, operation: GraphQLRequestData) -> None:
        """400 for a document over MAX_QUERY_BYTES: the parse and validation caches keep the text
        of the last 512 documents, so comments (which no token limit counts) must not make them
        hold hundreds of megabytes."""
        cap = self.settings.max_query_bytes
        if operation.query is not None and len(operation.query.encode()) > cap:
            raise HTTPException(400, f"The GraphQL document is longer than {cap} bytes.")

    @staticmethod
    def check_request_text(operation: GraphQLRequestData) -> None:
        """400 for an unpaired surrogate or a NUL anywhere in the request (document, its string
        literals, variables, operation name, extensions): no field can take them, and they would
        fail deep inside (UTF-8 encoding, PostgreSQL text) as a server error."""
        fields = {
            "query": operation.query,
            "variables": operation.variables,
            "operationName": operation.operation_name,
            "extensions": operation.extensions,
        }
        for name, value in fields.items():
            problem = json_problem(value, refuse_nul=True)
            if problem is None and name == "query" and isinstance(value, str):
                problem = document_literal_problem(value)
            if problem is not None:
                raise HTTPException(400, f"The GraphQL operation's `{name}` contains {problem}.")

    def check_request_shape(self, body: object) -> None:
        operations = body if isinstance(body, list) else [body]
        if not operations:
            raise HTTPException(400, "The batch is empty: send at least one operation.")
        cap = self.settings.max_operations_per_request
        if len(operations) > cap:
            raise HTTPException(
                400,
                f"Too many operations: a batch holds at most {cap}, "
                f"this one has {len(operations)}.",
            )
        for operation in operations:
            if not isinstance(operation, dict):
                raise HTTPException(
                    400,
                    "The body must be a JSON object with a `query`, or a list of them (a batch).",
                )
            name = operation.get("operationName")
            if name is not None and not isinstance(name, str):
                raise HTTPException(
                    400, "The GraphQL operation's `operationName` must be a string or null."
                )
