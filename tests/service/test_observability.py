from __future__ import annotations

import io
import json
import sys

import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from service import create_app
from service.observability import EMF_NAMESPACE, configure_logging
from tests.service.conftest import local_settings


def _lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_each_request_logs_json_with_its_request_id_and_an_emf_metric(database_url, capsys):
    client = create_app(local_settings(database_url)).test_client()
    capsys.readouterr()
    client.get("/api/records/987654", headers={"X-Request-Id": "req-obs-1"})
    lines = _lines(capsys)
    access = next(line for line in lines if line["event"] == "request")
    assert access["request_id"] == "req-obs-1" and access["status"] == 404
    assert access["route"] == "/api/records/<int:record_id>"
    metric = next(line for line in lines if line["event"] == "metrics")
    directive = metric["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == EMF_NAMESPACE
    assert {m["Name"] for m in directive["Metrics"]} == {"Latency", "Status5xx", "WritesPaused"}
    assert directive["Dimensions"] == [["Environment", "Route"], ["Environment"]]
    assert metric["Status5xx"] == 0 and metric["Latency"] >= 0 and metric["Environment"] == "test"
    assert metric["WritesPaused"] == 0


def test_a_write_refused_by_read_only_is_counted_apart_from_failures(database_url, tmp_path, capsys):
    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps({"read_only": {"enabled": True}}))
    client = create_app(local_settings(database_url, flags_file=flags)).test_client()
    capsys.readouterr()
    answer = client.post("/api/records", json={"subject": "s", "kind": "note", "body": "b", "client_ref": "obs-ro"})
    assert answer.status_code == 503
    (metric,) = [line for line in _lines(capsys) if line["event"] == "metrics"]
    assert metric["WritesPaused"] == 1 and metric["Status5xx"] == 1


def test_log_lines_carry_the_current_trace_id(database_url, capsys):
    import structlog

    create_app(local_settings(database_url))
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        structlog.get_logger().info("inside")
    (line,) = [entry for entry in _lines(capsys) if entry["event"] == "inside"]
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")


def test_tracing_is_off_unless_an_otlp_endpoint_is_configured(database_url):
    assert create_app(local_settings(database_url)).extensions["records"].tracing is False


def test_a_traced_request_has_flask_and_database_spans_and_logs_its_trace_id(database_url, capsys):
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    app = create_app(local_settings(database_url), span_exporter=exporter)
    assert app.extensions["records"].tracing is True
    capsys.readouterr()
    app.test_client().get("/api/records?limit=1")
    spans = exporter.get_finished_spans()
    server = next(s for s in spans if s.kind == trace.SpanKind.SERVER)
    assert any(s.kind == trace.SpanKind.CLIENT and s.context.trace_id == server.context.trace_id for s in spans)
    access = next(line for line in _lines(capsys) if line["event"] == "request")
    assert access["trace_id"] == format(server.context.trace_id, "032x")


def test_logs_follow_stdout_after_the_stream_they_were_configured_with_is_closed(monkeypatch):
    configured_with = io.StringIO()
    monkeypatch.setattr(sys, "stdout", configured_with)
    configure_logging("INFO")
    configured_with.close()
    current = io.StringIO()
    monkeypatch.setattr(sys, "stdout", current)

    structlog.get_logger().info("after the swap")

    assert json.loads(current.getvalue())["event"] == "after the swap"
