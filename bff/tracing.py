"""OpenTelemetry tracing, on with TRACING_ENABLED: one trace per HTTP request (the ASGI
middleware's span), with spans for the GraphQL operation and each resolver (Strawberry's
extension, arguments left out: they carry passwords) and each SQL statement (bff.db.instrument),
exported over OTLP/HTTP to TRACING_OTLP_ENDPOINT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

if TYPE_CHECKING:
    from bff.settings import Settings

# Probes and scrapes would drown the traces that matter.
UNTRACED_PATHS = "healthz,readyz,metrics"

_providers: dict[tuple[str, str | None], TracerProvider] = {}


def tracer_provider(settings: Settings) -> TracerProvider | None:
    """The process's provider for these settings (one per service name and endpoint), or None
    when tracing is off."""
    if not settings.tracing_enabled:
        return None
    key = (settings.tracing_service_name, settings.tracing_otlp_endpoint)
    provider = _providers.get(key)
    if provider is None:
        provider = TracerProvider(
            resource=Resource.create({"service.name": settings.tracing_service_name})
        )
        if settings.tracing_otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
                OTLPSpanExporter,
            )

            exporter = OTLPSpanExporter(endpoint=settings.tracing_otlp_endpoint)
            provider.add_span_processor(BatchSpanProcessor(exporter))
        _providers[key] = provider
    return provider


def shutdown_tracing() -> None:
    """Flush and stop every provider (the app's lifespan, at shutdown)."""
    providers = list(_providers.values())
    _providers.clear()
    for provider in providers:
        provider.shutdown()
