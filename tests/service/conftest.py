"""A real PostgreSQL for the service tests: one cluster per session, one fresh database per test module."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine

from ops.postgres import LocalPostgres, temporary_postgres
from service.migrate import migrate
from service.settings import Settings

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    with temporary_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def database_url(postgres: LocalPostgres) -> str:
    """A migrated, empty database of this module's own."""
    url = postgres.create_database(f"records_{next(_databases)}", "app-password")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    migrate(engine)
    engine.dispose()
    return url


def local_settings(url: str, **overrides) -> Settings:
    return Settings(database_url=url, db_sslmode="disable", app_env="test", **overrides)
