"""Schema migrations (Alembic), idempotent and safe to run from every task at start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")
# Several tasks start at once during a deployment; one lock makes them take turns instead of racing DDL.
ADVISORY_LOCK_ID = 74_051_001


def migrate(engine: Engine) -> str:
    """Upgrade to the newest revision; returns it. :raise sqlalchemy.exc.SQLAlchemyError: database refused."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_ID})")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        return str(MigrationContext.configure(connection).get_current_revision())
