"""GraphQL hardening: document limits, batching cap, page size, masking, production switches."""

from __future__ import annotations

import pytest

from bff.errors import DomainError, ErrorCode
from bff.graphql.context import Context
from bff.graphql.errors import UnauthenticatedError
from bff.graphql.relay import make_page
from tests.graphql_client import gql

ME = "query { me { id } }"
TYPENAME = "query { __typename }"
OFFERS = "query Offers($first: Int) { offers(first: $first) { edges { node { id } } } }"
INTROSPECTION = "query { __schema { queryType { name } } }"
MISSPELT_FIELD = "query { mee { id } }"
GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}


def aliases(count: int) -> str:
    return "query { " + " ".join(f"a{n}: __typename" for n in range(count)) + " }"


async def test_a_query_deeper_than_the_limit_is_refused(client, settings):
    """MAX_QUERY_DEPTH stops a query that walks the card-transaction cycle ever deeper."""
    cycle = "transactions { edges { node { card { "
    query = "query { me { cards { " + cycle * 3 + "id" + " } } } }" * 3 + " } } }"

    body = await gql(client, query)

    assert "data" not in body
    assert body["errors"][0]["message"] == (
        f"'anonymous' exceeds maximum operation depth of {settings.max_query_depth}"
    )


async def test_a_query_within_the_depth_limit_runs(client):
    """The default depth limit lets the clients' ordinary queries through."""

    body = await gql(client, ME)

    assert body == {"data": {"me": None}}


async def test_more_aliases_than_the_limit_are_refused(client, settings):
    """MAX_ALIASES bounds alias amplification (one field asked many times)."""

    allowed = await gql(client, aliases(settings.max_aliases))
    refused = await gql(client, aliases(settings.max_aliases + 1))

    assert len(allowed["data"]) == settings.max_aliases
    assert "data" not in refused
    assert refused["errors"][0]["message"] == (
        f"{settings.max_aliases + 1} aliases found. Allowed: {settings.max_aliases}"
    )


async def test_a_document_with_more_tokens_than_the_limit_is_refused_while_parsing(
    client, settings
):
    """MAX_TOKENS stops the parser itself, before any validation work."""
    query = "query { " + "__typename " * (settings.max_tokens + 1) + "}"

    body = await gql(client, query)

    assert "data" not in body
    assert f"more than {settings.max_tokens} tokens" in body["errors"][0]["message"]


async def test_a_query_repeating_one_directive_many_times_is_refused(client, settings):
    """MAX_DIRECTIVES refuses directive overloading, and says so first."""
    query = "query { __typename" + " @skip(if: false)" * 100 + " }"

    body = await gql(client, query)

    assert "data" not in body
    assert body["errors"][0] == {
        "message": f"The document has 100 directives. Allowed: {settings.max_directives}.",
        "extensions": {"code": "TOO_MANY_DIRECTIVES"},
    }


async def test_directives_up_to_the_limit_are_allowed(client, settings):
    """A document using as many directives as allowed runs."""
    fields = " ".join(
        f"a{n}: __typename @include(if: true)" for n in range(settings.max_directives)
    )

    body = await gql(client, "query { " + fields + " }")

    assert len(body["data"]) == settings.max_directives


async def test_a_batch_over_the_operations_cap_is_refused_with_400(client, settings):
    """MAX_OPERATIONS_PER_REQUEST bounds a batch; the refusal says why."""
    operation = {"query": TYPENAME}

    allowed = await client.post("/graphql", json=[operation] * settings.max_operations_per_request)
    refused = await client.post(
        "/graphql", json=[operation] * (settings.max_operations_per_request + 1)
    )

    assert allowed.status_code == 200
    assert len(allowed.json()) == settings.max_operations_per_request
    assert refused.status_code == 400
    assert refused.json() == {
        "errors": [
            {
                "message": (
                    "Too many operations: a batch holds at most "
                    f"{settings.max_operations_per_request}, this one has "
                    f"{settings.max_operations_per_request + 1}."
                )
            }
        ]
    }


def test_first_is_capped_at_the_maximum_page_size():
    """Every connection pages through make_page, which refuses `first` over the cap."""

    largest = make_page(100, None, max_page_size=100)
    with pytest.raises(DomainError) as too_many:
        make_page(101, None, max_page_size=100)

    assert largest.first == 100
    assert too_many.value.code is ErrorCode.INVALID_INPUT
    assert too_many.value.field == "first"


async def test_a_connection_refuses_first_over_the_cap_end_to_end(client):
    """Query.offers (like every connection) answers 100 rows at most and says so on `first`."""

    allowed = await gql(client, OFFERS, {"first": 100})
    refused = await gql(client, OFFERS, {"first": 101})

    assert allowed == {"data": {"offers": {"edges": []}}}
    assert refused["data"] is None
    assert refused["errors"][0]["message"] == "first must be between 0 and 100."
    assert refused["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "first"}


async def test_an_unexpected_error_is_masked_with_the_request_id(client, monkeypatch):
    """The client sees a generic message naming its request id, never the exception."""

    async def broken(self):
        raise RuntimeError("connection to db-7.internal refused")

    monkeypatch.setattr(Context, "authentication", broken)

    response = await client.post(
        "/graphql", json={"query": ME}, headers={"X-Request-ID": "req-masked-1"}
    )

    error = response.json()["errors"][0]
    assert response.status_code == 200
    assert "db-7" not in response.text
    assert error["message"] == "Unexpected error. Quote request id req-masked-1 when you report it."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-masked-1"}
    assert error["path"] == ["me"]


async def test_errors_raised_on_purpose_keep_their_message_and_code(client, monkeypatch):
    """UNAUTHENTICATED (a GraphQLError with a code) passes the mask unchanged."""

    async def unauthenticated(self):
        raise UnauthenticatedError

    monkeypatch.setattr(Context, "authentication", unauthenticated)

    body = await gql(client, ME)

    assert body["errors"][0]["message"] == "Sign in to see this field."
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_a_domain_error_escaping_a_resolver_keeps_its_code(client, monkeypatch):
    """A DomainError that a resolver did not turn into userErrors still reads as expected."""

    async def refused(self):
        raise DomainError("INVALID_INPUT", "first must be between 0 and 100.", field="first")

    monkeypatch.setattr(Context, "authentication", refused)

    body = await gql(client, ME)

    assert body["errors"][0]["message"] == "first must be between 0 and 100."
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "first"}


async def test_validation_errors_stay_readable(client):
    """A query for an unknown field names the field, and is not masked."""

    body = await gql(client, "query { nope }")

    assert body["errors"][0]["message"].startswith("Cannot query field 'nope' on type 'Query'.")


async def test_introspection_and_field_suggestions_are_on_in_development(client):
    """Development keeps introspection for GraphiQL and suggests misspelt fields."""

    schema = await gql(client, INTROSPECTION)
    misspelt = await gql(client, MISSPELT_FIELD)

    assert schema == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "Did you mean 'me'?" in misspelt["errors"][0]["message"]


async def test_introspection_and_field_suggestions_are_off_in_production(client_with):
    """Production refuses introspection and does not hint at field names."""
    production = await client_with(bff_env="production")

    schema = await gql(production, INTROSPECTION)
    misspelt = await gql(production, MISSPELT_FIELD)
    typename = await gql(production, TYPENAME)

    assert "data" not in schema
    assert "introspection has been disabled" in schema["errors"][0]["message"]
    assert misspelt["errors"][0]["message"] == "Cannot query field 'mee' on type 'Query'."
    assert typename == {"data": {"__typename": "Query"}}


async def test_graphiql_is_served_in_development(client):
    """A browser opening /graphql in development gets GraphiQL."""

    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_graphiql_is_not_served_in_production(client_with):
    """Production answers a browser's GET /graphql with 404."""
    production = await client_with(bff_env="production")

    response = await production.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 404
    assert "graphiql" not in response.text.lower()


async def test_a_mutation_over_get_is_refused_with_405(client):
    """GET is for queries only: a mutation sent by GET is 405 and points to POST."""

    response = await client.get(
        "/graphql", params={"query": "mutation { __typename }"}, headers=GRAPHQL_RESPONSE
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json() == {"errors": [{"message": "mutations are not allowed when using GET"}]}


async def test_a_query_over_get_runs(client):
    """Queries may be sent by GET (cacheable), with variables as URL-encoded JSON."""

    response = await client.get("/graphql", params={"query": TYPENAME})

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_graphiql_opens_with_the_dashboard_example(client):
    """The IDE's first screen is a cookie login and the web dashboard's query, ready to run."""

    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert "mutation DemoLogin" in response.text
    assert "query WebDashboard" in response.text
    assert "sessionTransport: COOKIE" in response.text
    assert "Welcome to GraphiQL" not in response.text


@pytest.mark.parametrize("accept", ["*/*", "text/html,application/xhtml+xml,*/*;q=0.8", ""])
async def test_a_get_with_graphql_parameters_runs_whatever_its_accept_header(client, accept):
    """Apollo Client sends `Accept: */*` on a hash-only GET: the operation runs, no IDE."""

    response = await client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"Accept": accept}
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_bare_get_that_does_not_ask_for_html_is_not_the_ide(client):
    """Only a GET without GraphQL parameters that asks for HTML gets GraphiQL."""

    response = await client.get("/graphql", headers={"Accept": "*/*"})

    assert response.status_code == 400
    assert "graphiql" not in response.text.lower()
