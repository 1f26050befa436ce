"""GraphQL over HTTP: media types and status codes as the current spec (graphql-over-http) says."""

from __future__ import annotations

import pytest

from bff.graphql.context import Context
from bff.graphql.view import negotiate_media_type

GRAPHQL_RESPONSE = "application/graphql-response+json"
SYNTAX_ERROR = "query {"
UNKNOWN_FIELD = "query { nope }"
NEEDS_ID = "query Coerce($id: ID!) { node(id: $id) { id } }"
ME = "query { me { id } }"


async def post(client, query, *, accept, variables=None):
    return await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Accept": accept}
    )


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0", "application/json"),
        ("text/html", "application/json"),
    ],
)
def test_the_response_media_type_follows_the_accept_header(accept, expected):
    """graphql-response+json when preferred; application/json for older clients and */*."""

    chosen = negotiate_media_type(accept)

    assert chosen == expected


async def test_a_client_accepting_graphql_response_json_gets_it(client):
    """A successful operation is 200 in the media type the client asked for."""

    response = await post(client, "query { __typename }", accept=GRAPHQL_RESPONSE)

    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_an_older_client_gets_application_json(client):
    """Without graphql-response+json in Accept the answer is application/json."""

    response = await post(client, "query { __typename }", accept="*/*")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (SYNTAX_ERROR, None, "Syntax Error"),
        (UNKNOWN_FIELD, None, "Cannot query field 'nope'"),
        (
            NEEDS_ID,
            {"id": None},
            "Variable '$id' has invalid value: Expected value of non-null type 'ID!'",
        ),
    ],
    ids=["parse", "validation", "variables"],
)
async def test_a_request_error_is_400_without_data_in_graphql_response_json(
    client, query, variables, message
):
    """Parse, validation and variable errors never reach execution: 400 and no data entry."""

    response = await post(client, query, accept=GRAPHQL_RESPONSE, variables=variables)

    body = response.json()
    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in body
    assert message in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "variables"),
    [(SYNTAX_ERROR, None), (UNKNOWN_FIELD, None), (NEEDS_ID, {"id": None})],
    ids=["parse", "validation", "variables"],
)
async def test_a_request_error_is_200_without_data_in_application_json(client, query, variables):
    """Older clients read errors from a 200 body, as they always did; data is still absent."""

    response = await post(client, query, accept="application/json", variables=variables)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "data" not in response.json()
    assert response.json()["errors"]


async def test_a_field_error_is_200_with_data_in_graphql_response_json(client, monkeypatch):
    """An error while executing keeps the data entry (with nulls), so the status is 200."""

    async def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(Context, "authentication", broken)

    response = await post(client, ME, accept=GRAPHQL_RESPONSE)

    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}
    assert response.json()["errors"][0]["path"] == ["me"]


async def test_a_batch_answers_each_operation_in_order_and_drops_data_only_where_it_never_ran(
    client,
):
    """A batch is 200 with one result per operation; a failing one does not spoil the others."""
    batch = [{"query": "query { __typename }"}, {"query": UNKNOWN_FIELD}]

    response = await client.post("/graphql", json=batch, headers={"Accept": GRAPHQL_RESPONSE})

    ran, refused = response.json()
    assert response.status_code == 200
    assert ran == {"data": {"__typename": "Query"}}
    assert "data" not in refused
    assert refused["errors"][0]["message"].startswith("Cannot query field 'nope'")
