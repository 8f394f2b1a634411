"""Schema migrations (Alembic), idempotent and safe to run from every task at start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")
# Several tasks start at once during a deployment; one lock makes them take turns instead of racing DDL.
ADVISORY_LOCK_ID = 74_051_001
# Waiting for another task's migration, or a DDL lock, may take longer than a request is allowed to.
LOCK_TIMEOUT = "120s"
SKIPPED_ON_REPLICA = "skipped (read replica)"


def _in_recovery(connection: Connection) -> bool:
    return bool(connection.exec_driver_sql("SELECT pg_is_in_recovery()").scalar())


def migrate(engine: Engine) -> str:
    """Upgrade to the newest revision; returns it, or SKIPPED_ON_REPLICA on a read replica (the secondary
    region before promotion), which receives the schema by replication and must not crash-loop its tasks.

    :raise sqlalchemy.exc.SQLAlchemyError: the database refused.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if _in_recovery(connection):
            return SKIPPED_ON_REPLICA
        # The service's statement timeout protects requests; it must not cut off DDL or the wait for the lock.
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_ID})")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        return str(MigrationContext.configure(connection).get_current_revision())
