"""Alembic environment: runs on the connection that service.migrate hands over (no alembic.ini, no URL)."""

from alembic import context

from service.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
