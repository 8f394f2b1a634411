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
