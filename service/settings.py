"""Service settings from the environment (pydantic-settings). Secrets never arrive here: only where to read them."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.openapi import MAX_REQUEST_BYTES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, frozen=True, extra="ignore")

    app_env: str = "local"
    app_region: str = "local"
    colour: str = Field(default="blue", pattern=r"^(blue|green)$")
    app_version: str = "0.0.0-dev"
    git_sha: str = "unknown"
    build_time: str = "unknown"

    # Either a local URL (development, tests) or a host plus the Secrets Manager id of the credentials.
    database_url: str | None = None
    db_host: str | None = None
    db_port: int = 5432
    db_name: str = "records"
    db_secret_id: str | None = None
    db_sslmode: str = "require"
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_pool_timeout_s: float = Field(default=2.0, gt=0)
    db_connect_timeout_s: int = Field(default=2, ge=1)
    db_statement_timeout_ms: int = Field(default=5000, ge=100)
    secret_ttl_s: float = Field(default=300.0, gt=0)
    aws_region: str | None = None

    # Either a URL (development, tests) or ElastiCache's host and the Secrets Manager id of its AUTH token.
    cache_url: str | None = None
    cache_host: str | None = None
    cache_port: int = 6380
    cache_secret_id: str | None = None
    cache_tls: bool = True
    cache_ttl_s: int = Field(default=60, ge=1)
    cache_prefix: str = "records:"
    cache_timeout_s: float = Field(default=0.2, gt=0)

    flags_file: Path | None = None
    appconfig_application: str | None = None
    appconfig_environment: str | None = None
    appconfig_profile: str | None = None
    flags_ttl_s: float = Field(default=30.0, gt=0)

    max_request_bytes: int = Field(default=MAX_REQUEST_BYTES, ge=MAX_REQUEST_BYTES)
    log_level: str = "INFO"
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "records"  # what X-Ray's sampling rule and group select (set by the task)

    @model_validator(mode="after")
    def _one_database_source(self) -> Settings:
        remote = self.db_host is not None and self.db_secret_id is not None
        if bool(self.database_url) == remote:
            raise ValueError(
                "set either DATABASE_URL (local) or both DB_HOST and DB_SECRET_ID (AWS), not both and not neither"
            )
        return self

    @model_validator(mode="after")
    def _one_cache_source(self) -> Settings:
        if self.cache_url and self.cache_host:
            raise ValueError("set either CACHE_URL or CACHE_HOST (with CACHE_SECRET_ID), not both")
        if bool(self.cache_host) != bool(self.cache_secret_id):
            raise ValueError("CACHE_HOST and CACHE_SECRET_ID go together: ElastiCache requires its AUTH token")
        return self

    @property
    def tracing_enabled(self) -> bool:
        return bool(self.otel_exporter_otlp_endpoint)

    @property
    def uses_appconfig(self) -> bool:
        return all((self.appconfig_application, self.appconfig_environment, self.appconfig_profile))
