"""The service under real gunicorn: JSON access log, schema fuzzing, graceful drain on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from ops.gunicorn import ROOT
from ops.postgres import free_port

FUZZ_EXAMPLES = 40


@pytest.fixture(scope="module")
def server(gunicorn, database_url, tmp_path_factory):
    running = gunicorn.start({"DATABASE_URL": database_url}, tmp_path_factory.mktemp("gunicorn") / "server.log")
    yield running
    running.stop()


def test_access_log_is_one_json_object_per_line_with_the_request_id(server):
    requests.get(f"{server.url}/version", headers={"X-Request-Id": "req-gunicorn-1"}, timeout=5)
    time.sleep(0.2)
    lines = [json.loads(line) for line in server.log_path.read_text().splitlines() if line.startswith('{"event": "access"')]
    entry = next(line for line in lines if line["request_id"] == "req-gunicorn-1")
    assert entry["path"] == "/version" and entry["status"] == 200 and entry["duration_us"] > 0


def test_schema_fuzzing_finds_no_server_error_and_no_nonconformance(server, tmp_path):
    report = tmp_path / "junit.xml"
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json", "--checks", "all",
         "-n", str(FUZZ_EXAMPLES), "--seed", "20261123", "--report-junit-path", str(report)],
        # schemathesis keeps a cache in its working directory; keep it out of the repository.
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "tests=" in report.read_text()


def test_sigterm_drains_in_flight_requests(gunicorn, database_url, tmp_path):
    flags = tmp_path / "flags.json"
    # Slow responses keep requests in flight when SIGTERM arrives.
    flags.write_text(json.dumps({"inject_latency": {"enabled": True, "ms": 800}}))
    server = gunicorn.start({"DATABASE_URL": database_url, "FLAGS_FILE": str(flags), "FLAGS_TTL_S": "0.1",
                             "GUNICORN_GRACEFUL_TIMEOUT": "10"}, tmp_path / "server.log")
    outcomes: list[object] = []
    started = threading.Barrier(9)

    def call() -> None:
        started.wait()
        try:
            response = requests.get(f"{server.url}/api/records?limit=1", timeout=15,
                                     headers={"Connection": "close"})
            outcomes.append(response.status_code)
        except requests.RequestException as error:
            outcomes.append(error)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    started.wait()
    time.sleep(0.3)  # all eight are now inside their 800 ms of injected latency
    server.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(timeout=20)
    code = server.process.wait(timeout=20)
    assert outcomes == [200] * 8
    assert code == 0


def _container_health_check(port: int) -> subprocess.CompletedProcess[str]:
    """The container's health check command, as ECS and the Dockerfile run it, from the image's working directory
    (the repository root holds the same ``service`` package)."""
    from stacks.service import HEALTH_CHECK_COMMAND

    return subprocess.run([sys.executable, *HEALTH_CHECK_COMMAND[1:]], env={"PORT": str(port)}, cwd=ROOT,
                          capture_output=True, text=True, timeout=30, check=False)


def test_the_container_health_check_passes_on_a_live_service_and_fails_without_one(server, monkeypatch, capsys):
    from service import healthcheck

    assert _container_health_check(server.port).returncode == 0
    monkeypatch.setenv("PORT", str(server.port))
    assert healthcheck.main([]) == 0
    monkeypatch.setenv("PORT", str(free_port()))
    assert healthcheck.main([]) == 1
    assert "healthcheck: no answer on 127.0.0.1:" in capsys.readouterr().err


def test_the_container_health_check_fails_on_an_answer_other_than_200(monkeypatch, capsys):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from service import healthcheck

    class Unhealthy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Unhealthy) as unhealthy:
        threading.Thread(target=unhealthy.serve_forever, daemon=True).start()
        monkeypatch.setenv("PORT", str(unhealthy.server_address[1]))
        try:
            assert healthcheck.main([]) == 1
        finally:
            unhealthy.shutdown()
    assert "healthcheck: /health answered 503" in capsys.readouterr().err
