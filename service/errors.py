"""Every error is JSON with a request id; clients never see a stack trace."""

from __future__ import annotations

from typing import Any

import structlog
from flask import Flask, Response, g, jsonify
from sqlalchemy.exc import DataError, InternalError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from service.secrets import SecretError

log = structlog.get_logger()
READ_ONLY_TRANSACTION = "25006"


class ServiceUnavailable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_response(status: int, message: str, detail: Any = None) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": message, "request_id": g.get("request_id", "")}
    if detail is not None:
        body["detail"] = detail
    return jsonify(body), status


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        response, status = error_response(error.code or 500, (error.name or "error").lower())
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(error.valid_methods))  # required by RFC 9110
        return response, status

    @app.errorhandler(InternalError)
    def read_only_database(error: InternalError) -> tuple[Response, int]:
        # The secondary region serves from the read replica until promotion: a write there is "not now" (503),
        # not a fault of ours (500), and must not count towards the 5xx alarms as a server error would.
        if getattr(error.orig, "sqlstate", None) == READ_ONLY_TRANSACTION:
            return error_response(503, "database is read-only (replica); writes go to the primary region")
        log.exception("database_error")
        return error_response(500, "internal error")

    @app.errorhandler(DataError)
    def rejected_by_database(error: DataError) -> tuple[Response, int]:
        # A value the schema let through but PostgreSQL cannot store: the client's input, not our fault.
        return error_response(400, "invalid payload", [str(error.orig).splitlines()[0]])

    @app.errorhandler(ServiceUnavailable)
    def unavailable(error: ServiceUnavailable) -> tuple[Response, int]:
        return error_response(503, error.message)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeoutError)
    @app.errorhandler(SecretError)
    def database_down(error: Exception) -> tuple[Response, int]:
        log.warning("database_unavailable", error=str(error).splitlines()[0])
        return error_response(503, "database unavailable")

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int]:
        log.exception("unhandled_error")
        return error_response(500, "internal error")
