"""The Flask app factory: settings, then the services every request shares, then blueprints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy import Engine

from service import api, errors, health
from service.cache import RecordCache
from service.db import make_engine
from service.flags import AppConfigSource, FeatureFlags, FileSource
from service.observability import Metrics, configure_logging, instrument
from service.openapi import document
from service.secrets import CacheTokenProvider, CredentialsProvider
from service.settings import Settings
from service.tracing import enable_tracing


@dataclass
class Services:
    settings: Settings
    engine: Engine
    credentials: CredentialsProvider | None
    cache: RecordCache
    flags: FeatureFlags
    metrics: Metrics
    tracing: bool = False


def _aws_client(name: str, settings: Settings) -> Any:
    import boto3  # only when AWS is configured; local runs need no credentials
    from botocore.config import Config

    # A request thread waits on these calls: fail in seconds, not after botocore's 60 s defaults and retries.
    bounded = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 2})
    return boto3.client(name, region_name=settings.aws_region or settings.app_region, config=bounded)


def build_services(settings: Settings, *, aws: Any = None) -> Services:
    """``aws(name)`` returns a boto3 client; tests pass one bound to moto or a stubber."""
    aws = aws or (lambda name: _aws_client(name, settings))
    credentials = (
        CredentialsProvider(aws("secretsmanager"), settings.db_secret_id, settings.secret_ttl_s)
        if settings.db_secret_id
        else None
    )
    sources: list[Callable[[], dict[str, Any]]] = []
    if settings.uses_appconfig:
        sources.append(AppConfigSource(aws("appconfigdata"), settings.appconfig_application or "",
                                       settings.appconfig_environment or "", settings.appconfig_profile or ""))
    if settings.flags_file:
        sources.append(FileSource(settings.flags_file))
    return Services(
        settings=settings,
        engine=make_engine(settings, credentials),
        credentials=credentials,
        cache=_cache(settings, aws),
        flags=FeatureFlags(sources, settings.flags_ttl_s),
        metrics=Metrics(),
    )


def _cache(settings: Settings, aws: Any) -> RecordCache:
    if settings.cache_host and settings.cache_secret_id:
        return RecordCache.for_elasticache(
            host=settings.cache_host,
            port=settings.cache_port,
            credentials=CacheTokenProvider(aws("secretsmanager"), settings.cache_secret_id, settings.secret_ttl_s),
            tls=settings.cache_tls,
            prefix=settings.cache_prefix,
            ttl_s=settings.cache_ttl_s,
            timeout_s=settings.cache_timeout_s,
        )
    return RecordCache.from_url(
        settings.cache_url, settings.cache_prefix, settings.cache_ttl_s, settings.cache_timeout_s
    )


def create_app(settings: Settings | None = None, *, aws: Any = None, span_exporter: Any = None) -> Flask:
    """``aws`` and ``span_exporter`` replace boto3 clients and the OTLP exporter (tests, local tools).

    :raise pydantic.ValidationError: the environment does not describe one database source.
    """
    settings = settings or Settings()
    configure_logging(settings.log_level)
    app = Flask("records")
    app.config.update(MAX_CONTENT_LENGTH=settings.max_request_bytes, JSON_SORT_KEYS=False)
    services = build_services(settings, aws=aws)
    app.extensions["records"] = services
    errors.register(app)
    instrument(app, services.metrics, settings.app_env)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)

    @app.get("/openapi.json")
    def openapi() -> Response:
        return jsonify(document(settings.app_version))

    services.tracing = enable_tracing(app, services.engine, settings, span_exporter)
    return app
