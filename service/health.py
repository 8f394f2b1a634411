"""Liveness, readiness, version and metrics endpoints."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from service import repository
from service.secrets import SecretError

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    """Liveness: the process answers. Depends on nothing, so a database outage never restarts tasks. The region
    tells drills which region the global name sends traffic to (this path is never cached at the edge)."""
    return jsonify(status="ok", region=current_app.extensions["records"].settings.app_region)


@bp.get("/ready")
def ready() -> tuple[Response, int]:
    """Readiness: secrets loaded and the database answers within the connect timeout; 503 otherwise."""
    services = current_app.extensions["records"]
    checks: dict[str, Any] = {}
    try:
        repository.ping(services.engine)
        checks["database"] = "ok"
    except (SQLAlchemyError, SecretError) as error:
        checks["database"] = f"unavailable: {type(error).__name__}"
    if services.credentials is not None:
        checks["secrets"] = "ok" if services.credentials.loaded else "not loaded"
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ready" if healthy else "not ready", checks=checks), 200 if healthy else 503


@bp.get("/version")
def version() -> Response:
    settings = current_app.extensions["records"].settings
    return jsonify(version=settings.app_version, git_sha=settings.git_sha, build_time=settings.build_time,
                   region=settings.app_region, environment=settings.app_env, colour=settings.colour)


@bp.get("/metrics")
def metrics() -> Response:
    return current_app.extensions["records"].metrics.expose()
