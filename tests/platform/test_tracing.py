"""OpenTelemetry tracing behind TRACING_ENABLED: one trace per request, with spans for the
GraphQL operation, its resolvers and its SQL statements, and no resolver arguments."""

from __future__ import annotations

import httpx
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bff.app import build_app
from bff.tracing import tracer_provider
from tests.conftest import make_settings
from tests.factories import create_member

PASSWORD = "a long enough passphrase 42"
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password, sessionTransport: BEARER}) {
    member { email cards { id } } userErrors { code }
  }
}
"""


async def test_a_request_is_one_trace_with_resolver_and_sql_spans(app, settings):
    traced = make_settings(
        settings.database_url,
        tracing_enabled=True,
        tracing_otlp_endpoint=None,
        tracing_service_name="bff-test-tracing",
    )
    provider = tracer_provider(traced)
    assert provider is not None
    exported = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    member = await create_member(password=PASSWORD)
    transport = httpx.ASGITransport(app=build_app(traced), client=("203.0.113.10", 50000))

    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"email": member.email, "password": PASSWORD}},
        )
        await http.get("/healthz")

    spans = exported.get_finished_spans()
    assert response.json()["data"]["login"]["member"]["email"] == member.email
    assert len({span.context.trace_id for span in spans}) == 1  # /healthz is not traced
    names = [span.name for span in spans]
    assert any(name.startswith("POST /graphql") for name in names)
    assert "GraphQL Query: Login" in names
    resolvers = {
        span.attributes.get("graphql.path")
        for span in spans
        if span.name.startswith("GraphQL Resolving")
    }
    assert {"login", "login.member.cards"} <= resolvers
    sql = [span for span in spans if span.name == "sql"]
    assert sql
    assert all("db.statement" in span.attributes for span in sql)
    assert not any(PASSWORD in str(dict(span.attributes or {})) for span in spans)


async def test_tracing_is_off_by_default(settings):
    assert tracer_provider(settings) is None
