"""Bad input gets a clear 4xx GraphQL error: never a 500, a stack trace or a hung worker."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

TYPENAME = "query { __typename }"
GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}


def errors_of(response) -> list[str]:
    body = response.json()
    assert set(body) == {"errors"}
    return [error["message"] for error in body["errors"]]


async def test_a_malformed_json_body_is_400(client):
    """A body that is not JSON is refused before any GraphQL work."""

    response = await client.post(
        "/graphql",
        content=b'{"query": "{ __typename }"',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert errors_of(response) == ["Unable to parse request body as JSON"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", None]
)
async def test_a_body_that_is_not_declared_json_is_415(client, content_type):
    """Only application/json bodies are read (no form posts: they would skip CORS preflight)."""
    headers = {"Content-Type": content_type} if content_type else {}

    response = await client.post(
        "/graphql", content=json.dumps({"query": TYPENAME}).encode(), headers=headers
    )

    assert response.status_code == 415
    assert errors_of(response) == [
        "Send the operation as JSON, with Content-Type: application/json."
    ]


async def test_a_body_over_the_size_limit_is_413(client, settings):
    """MAX_BODY_BYTES is enforced from Content-Length, before the body is read."""
    query = "query { __typename }" + " " * settings.max_body_bytes

    response = await client.post("/graphql", json={"query": query})

    assert response.status_code == 413
    assert errors_of(response) == [f"Request body is larger than {settings.max_body_bytes} bytes."]


async def test_a_streamed_body_over_the_size_limit_is_413(client, settings):
    """A chunked body without Content-Length is cut off once it passes the limit."""
    chunk = b" " * 65536

    async def endless():
        yield b'{"query": "'
        for _ in range(settings.max_body_bytes // len(chunk) + 2):
            yield chunk

    response = await client.post(
        "/graphql", content=endless(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert "larger than" in errors_of(response)[0]


async def test_a_body_that_stops_arriving_is_408_instead_of_a_hung_request(client_with):
    """REQUEST_BODY_TIMEOUT frees a request whose client stopped sending its body."""
    impatient = await client_with(request_body_timeout=timedelta(seconds=0.2))

    async def stalled():
        yield b'{"query": "'
        await asyncio.Event().wait()  # the client never sends the rest

    response = await impatient.post(
        "/graphql", content=stalled(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 408
    assert errors_of(response) == ["The request body did not arrive within 0.2 seconds."]


async def test_an_unknown_operation_name_is_400(client):
    """Asking for an operation the document does not define is a request error."""

    response = await client.post(
        "/graphql", json={"query": "query Known { __typename }", "operationName": "Unknown"}
    )

    assert response.status_code == 400
    assert errors_of(response) == ['Unknown operation named "Unknown".']


async def test_bad_variables_are_a_readable_request_error(client):
    """A variable of the wrong type names the variable and never executes."""

    response = await client.post(
        "/graphql",
        json={"query": "query Q($id: ID!) { node(id: $id) { id } }", "variables": {"id": [1]}},
        headers=GRAPHQL_RESPONSE,
    )

    assert response.status_code == 400
    assert (
        "Variable '$id' has invalid value: ID cannot represent value: [1]" in errors_of(response)[0]
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "No GraphQL query found in the request"),
        ({"query": 5}, "The GraphQL operation's `query` must be a string or null, if provided."),
        (
            {"query": TYPENAME, "variables": "x"},
            "The GraphQL operation's `variables` must be an object or null, if provided.",
        ),
        (
            {"query": TYPENAME, "extensions": []},
            "The GraphQL operation's `extensions` must be an object or null, if provided.",
        ),
        (
            {"query": TYPENAME, "operationName": {"a": 1}},
            "The GraphQL operation's `operationName` must be a string or null.",
        ),
        (
            "a string",
            "The body must be a JSON object with a `query`, or a list of them (a batch).",
        ),
        (7, "The body must be a JSON object with a `query`, or a list of them (a batch)."),
        ([1, 2], "The body must be a JSON object with a `query`, or a list of them (a batch)."),
        ([], "The batch is empty: send at least one operation."),
    ],
    ids=[
        "no-query",
        "query-not-string",
        "variables-not-object",
        "extensions-not-object",
        "operation-name-not-string",
        "string-body",
        "number-body",
        "batch-of-numbers",
        "empty-batch",
    ],
)
async def test_a_request_of_the_wrong_shape_is_400_with_a_reason(client, body, message):
    """Every malformed request is refused with a GraphQL error saying what is wrong."""

    response = await client.post("/graphql", json=body, headers=GRAPHQL_RESPONSE)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert errors_of(response) == [message]


async def test_a_method_other_than_get_or_post_is_405(client):
    """PUT and friends are refused by the router."""

    response = await client.put("/graphql", json={"query": TYPENAME})

    assert response.status_code == 405
