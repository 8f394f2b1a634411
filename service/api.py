"""The records API: create (idempotent by client_ref), read one (cached), list newest first."""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, g, jsonify, request
from jsonschema import Draft7Validator

from service import json_body, repository
from service.errors import ServiceUnavailable, error_response
from service.openapi import DEFAULT_LIMIT, MAX_LIMIT, MAX_RECORD_ID, RECORD_INPUT

bp = Blueprint("api", __name__, url_prefix="/api")
validator = Draft7Validator(RECORD_INPUT)


def _services():  # noqa: ANN202 - the registry object defined in service.app
    return current_app.extensions["records"]


@bp.before_request
def apply_flags() -> None:
    flags = _services().flags.current()
    if flags.inject_latency_ms:
        time.sleep(flags.inject_latency_ms / 1000)


def _encodable(text: str) -> bool:
    """JSON may carry lone surrogates ("\\ud800") that no database encoding can store."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@bp.post("/records")
def create() -> tuple[Response, int]:
    """:raise 415: not JSON. :raise 400: payload fails the schema. :raise 409: client_ref reused for other
    content. :raise 503: writes paused, read-only replica, or database down."""
    if not request.is_json:
        return error_response(415, "unsupported media type", "send application/json")
    try:
        payload = json_body.parse(request.get_data(cache=True))
    except json_body.InvalidBody as invalid:
        return error_response(400, "invalid payload", [str(invalid)])
    problems = sorted(
        f"{'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message}" for e in validator.iter_errors(payload)
    )
    if isinstance(payload, dict):
        problems += [f"{key}: not valid Unicode text (lone surrogate)" for key, value in payload.items()
                     if isinstance(value, str) and not _encodable(value)]
    if problems:
        return error_response(400, "invalid payload", problems)
    if _services().flags.current().read_only:
        g.writes_paused = True  # counted apart from failures (service/observability.py)
        raise ServiceUnavailable("writes are paused (read_only flag)")
    try:
        record, created = repository.create_record(_services().engine, payload)
    except repository.ClientRefConflict as conflict:
        return error_response(409, "client_ref already used", f"client_ref {conflict} names a different record")
    _services().cache.invalidate(record["id"])
    return jsonify(record), 201 if created else 200


@bp.get("/records/<int:record_id>")
def read(record_id: int) -> tuple[Response, int]:
    """:raise 404: no record with this id (including ids beyond the database's bigint range)."""
    services = _services()
    if record_id > MAX_RECORD_ID:
        return error_response(404, "not found", f"record {record_id} does not exist")
    record = services.cache.get(record_id)
    if record is None:
        record = repository.get_record(services.engine, record_id)
        if record is None:
            return error_response(404, "not found", f"record {record_id} does not exist")
        services.cache.put(record)
    return jsonify(record), 200


@bp.get("/records")
def list_() -> tuple[Response, int]:
    """:raise 400: limit is not an integer between 1 and MAX_LIMIT."""
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    # isascii: str.isdigit accepts digits such as "¹" that int() rejects; the length bound keeps int() cheap.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3) or not 1 <= int(raw) <= MAX_LIMIT:
        return error_response(400, "invalid limit", f"limit must be an integer from 1 to {MAX_LIMIT}, got {raw!r}")
    return jsonify(items=repository.list_records(_services().engine, int(raw))), 200
