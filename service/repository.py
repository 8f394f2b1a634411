"""Record storage. ``client_ref`` makes writes idempotent: a retried write returns the record it created."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, RowMapping, select
from sqlalchemy.dialects.postgresql import insert

from service.db import records

CONTENT_FIELDS = ("subject", "kind", "body")
COLUMNS = (records.c.id, records.c.client_ref, records.c.subject, records.c.kind, records.c.body, records.c.created_at)


class ClientRefConflict(Exception):
    """The client_ref names an existing record with different content."""


def _as_dict(row: RowMapping) -> dict[str, Any]:
    record = dict(row)
    record["created_at"] = record["created_at"].isoformat()
    return record


def create_record(engine: Engine, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Insert a record; returns (record, created). A known ``client_ref`` returns the existing record."""
    with engine.begin() as conn:
        statement = insert(records).values(**data)
        if data.get("client_ref"):
            statement = statement.on_conflict_do_nothing(index_elements=[records.c.client_ref])
        row = conn.execute(statement.returning(*COLUMNS)).mappings().first()
        if row is not None:
            return _as_dict(row), True
        existing = conn.execute(select(*COLUMNS).where(records.c.client_ref == data["client_ref"])).mappings().one()
        if any(existing[field] != data[field] for field in CONTENT_FIELDS):
            raise ClientRefConflict(data["client_ref"])
        return _as_dict(existing), False


def get_record(engine: Engine, record_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(*COLUMNS).where(records.c.id == record_id)).mappings().first()
        return _as_dict(row) if row else None


def list_records(engine: Engine, limit: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(*COLUMNS).order_by(records.c.id.desc()).limit(limit)).mappings().all()
        return [_as_dict(r) for r in rows]


def ping(engine: Engine) -> None:
    """:raise sqlalchemy.exc.SQLAlchemyError: the database cannot answer."""
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
