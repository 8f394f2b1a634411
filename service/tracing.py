"""OpenTelemetry for Flask, SQLAlchemy and AWS calls, exported over OTLP to the ADOT sidecar when configured."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine

from service.settings import Settings


def enable_tracing(app: Flask, engine: Engine, settings: Settings) -> bool:
    """Instrument when OTEL_EXPORTER_OTLP_ENDPOINT is set; returns whether tracing is on."""
    if not settings.tracing_enabled:
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider(resource=Resource.create({"service.name": "records",
                                                            "deployment.environment": settings.app_env}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
    FlaskInstrumentor().instrument_app(app)
    SQLAlchemyInstrumentor().instrument(engine=engine)
    BotocoreInstrumentor().instrument()
    return True
