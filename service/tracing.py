"""OpenTelemetry for Flask, SQLAlchemy and AWS calls, exported over OTLP to the ADOT sidecar when configured."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import Engine

from service.settings import Settings


def enable_tracing(app: Flask, engine: Engine, settings: Settings, exporter: Any = None) -> bool:
    """Instrument when OTEL_EXPORTER_OTLP_ENDPOINT is set (or an exporter is given); returns whether tracing is on.

    ``exporter`` replaces the OTLP exporter, e.g. with an in-memory one in tests.
    """
    if not settings.tracing_enabled and exporter is None:
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # the global provider can be set only once per process
        provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name,
                                                            "deployment.environment": settings.app_env}))
        trace.set_tracer_provider(provider)
    if exporter is None:
        endpoint = f"{str(settings.otel_exporter_otlp_endpoint).rstrip('/')}/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    FlaskInstrumentor().instrument_app(app)
    SQLAlchemyInstrumentor().instrument(engine=engine)
    BotocoreInstrumentor().instrument()
    return True
