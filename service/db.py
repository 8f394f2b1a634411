"""PostgreSQL through a bounded SQLAlchemy pool (psycopg 3).

With Secrets Manager credentials, connections come from a ``creator`` that reads the current credentials and,
when PostgreSQL rejects them (the secret was rotated), re-reads the secret once and retries.
"""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Identity,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
)

from service.secrets import CredentialsProvider
from service.settings import Settings

metadata = MetaData()
records = Table(
    "records",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("client_ref", String(64), unique=True, nullable=True),
    Column("subject", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

# psycopg reports a failed login without a SQLSTATE, so the server's message is what identifies it.
AUTH_FAILURE_MARKERS = ("password authentication failed",)
# Detect a database host that vanished (failover, partition) in seconds instead of the kernel's hours.
TCP_KEEPALIVE: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 2,
                 "tcp_user_timeout": 10_000}


def _is_auth_failure(error: psycopg.OperationalError) -> bool:
    return any(marker in str(error) for marker in AUTH_FAILURE_MARKERS)


def _pool_args(settings: Settings) -> dict[str, Any]:
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_s,
        "pool_pre_ping": True,
    }


def _session_options(settings: Settings) -> str:
    return f"-c statement_timeout={settings.db_statement_timeout_ms}"


def make_engine(settings: Settings, provider: CredentialsProvider | None = None) -> Engine:
    """:raise ValueError: remote settings without a credentials provider."""
    if settings.database_url:
        url = settings.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        connect_args = {"connect_timeout": settings.db_connect_timeout_s, "options": _session_options(settings),
                        **TCP_KEEPALIVE}
        return create_engine(url, connect_args=connect_args, **_pool_args(settings))
    if provider is None:
        raise ValueError("DB_SECRET_ID is set but no credentials provider was given")

    def connect() -> psycopg.Connection[Any]:
        try:
            return _connect(settings, provider)
        except psycopg.OperationalError as error:
            if not _is_auth_failure(error):
                raise
            provider.invalidate()
            return _connect(settings, provider)

    return create_engine("postgresql+psycopg://", creator=connect, **_pool_args(settings))


def _connect(settings: Settings, provider: CredentialsProvider) -> psycopg.Connection[Any]:
    credentials = provider.current()
    return psycopg.connect(
        host=settings.db_host,
        port=settings.db_port,
        dbname=settings.db_name,
        user=credentials.username,
        password=credentials.password,
        sslmode=settings.db_sslmode,
        connect_timeout=settings.db_connect_timeout_s,
        options=_session_options(settings),
        **TCP_KEEPALIVE,
    )
