"""Structured JSON logs carrying request and trace ids, CloudWatch EMF metric lines, and Prometheus metrics."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import MutableMapping
from typing import Any

import structlog
from flask import Flask, Response, g, request
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

REQUEST_ID_HEADER = "X-Request-Id"
EMF_NAMESPACE = "Records/Service"
WRITES_PAUSED = "WritesPaused"


def _trace_ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event


def configure_logging(level: str) -> None:
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _trace_ids,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # Resolved per logger, like print(): a stream bound at configure time outlives whoever swapped
        # sys.stdout (a test's capture, a reloaded worker) and every later line then fails on a closed file.
        logger_factory=lambda *_: structlog.PrintLogger(sys.stdout),
        cache_logger_on_first_use=False,
    )


class Metrics:
    """Per-app registry, so tests and several apps in one process do not share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("records_requests", "HTTP requests", ["route", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("records_request_seconds", "HTTP latency", ["route", "method"],
                                 registry=self.registry)

    def expose(self) -> Response:
        return Response(generate_latest(self.registry), mimetype=CONTENT_TYPE_LATEST)


def emf_line(environment: str, route: str, latency_ms: float, status: int, *, writes_paused: bool = False
             ) -> dict[str, Any]:
    """A CloudWatch Embedded Metric Format record: the log line is the metric, no agent or API call needed.

    ``WritesPaused`` counts writes refused by the read_only flag, per environment as well: the flag store's
    rollback monitor (stacks/feature_flags.py) tells those intended 503s from failures with it.
    """
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": EMF_NAMESPACE,
                "Dimensions": [["Environment", "Route"], ["Environment"]],
                "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}, {"Name": "Status5xx", "Unit": "Count"},
                            {"Name": WRITES_PAUSED, "Unit": "Count"}],
            }],
        },
        "Environment": environment,
        "Route": route,
        "Latency": round(latency_ms, 3),
        "Status5xx": 1 if status >= 500 else 0,
        WRITES_PAUSED: 1 if writes_paused else 0,
    }


def instrument(app: Flask, metrics: Metrics, environment: str) -> None:
    log = structlog.get_logger()

    @app.before_request
    def start() -> None:
        supplied = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = supplied if 0 < len(supplied) <= 128 and supplied.isprintable() else uuid.uuid4().hex
        g.started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def finish(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        route = request.url_rule.rule if request.url_rule else "unmatched"
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        metrics.requests.labels(route, request.method, str(response.status_code)).inc()
        metrics.latency.labels(route, request.method).observe(elapsed)
        log.info("request", method=request.method, route=route, status=response.status_code,
                 duration_ms=round(elapsed * 1000, 3))
        if route != "/metrics":
            log.info("metrics", **emf_line(environment, route, elapsed * 1000, response.status_code,
                                           writes_paused=bool(g.get("writes_paused"))))
        return response
