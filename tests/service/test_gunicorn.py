"""The service under real gunicorn: JSON access log, schema fuzzing, hostile input, graceful drain on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# ---- hostile input: whatever a body or query string holds, a 4xx JSON answer, never a 5xx -----------------------

HOSTILE_EXAMPLES = 500
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
FIELDS = st.sampled_from(["subject", "kind", "body", "client_ref", "id", ""])
HOSTILE_BODIES = st.one_of(
    st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n),  # deep arrays (RecursionError before the bound)
    st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),  # deep objects
    st.integers(1, 6000).map(lambda n: b"[" * n),  # deep and unbalanced
    st.integers(1, 20_000).map(lambda n: b'{"subject": ' + b"9" * n + b"}"),  # huge numbers
    # Long strings up to the request size limit (beyond it the 413 is shown once, below: over a reused connection
    # gunicorn closes after refusing, and the client may see the close before the answer).
    st.integers(1, 45_000).map(lambda n: b'{"subject": "s", "kind": "note", "body": "' + b"x" * n + b'"}'),
    st.binary(max_size=300),  # any bytes at all
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    JSON_VALUES.map(lambda v: json.dumps(v).encode("utf-16")),  # odd encodings json still reads
    st.lists(st.tuples(FIELDS, JSON_VALUES), max_size=8).map(  # duplicate keys, wrong types
        lambda pairs: ("{" + ",".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}").encode()),
    st.sampled_from([b"NaN", b'{"subject": Infinity, "kind": "note", "body": "b"}', b"-Infinity", b"\xef\xbb\xbf{}",
                     b'{"subject": "\\ud800", "kind": "note", "body": "b"}', b'{"subject": "s"', b"\x00"]),
)


def _refused_politely(answer: requests.Response) -> None:
    assert answer.status_code < 500, (answer.status_code, answer.text[:300])
    if answer.status_code >= 400:
        assert "error" in answer.json() and answer.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(("body", "status", "detail"), [
    (b"[" * 100_000 + b"]" * 100_000, 413, None),  # beyond the size limit: refused before it is read
    (b"[" * 5000 + b"]" * 5000, 400, "body is nested 5000 levels deep; at most 32 are accepted"),
    (b'{"a":' * 3000 + b"1" + b"}" * 3000, 400, "body is nested 3000 levels deep"),
    (b'{"subject": ' + b"9" * 5000 + b"}", 400, "body is not valid JSON (ValueError)"),
    (b"\xff\xfe\xfd", 400, "body is not valid JSON"),
], ids=["oversized", "deep-arrays", "deep-objects", "huge-number", "not-utf8"])
def test_deep_huge_and_malformed_bodies_are_4xx_json_under_gunicorn(server, body, status, detail):
    answer = requests.post(f"{server.url}/api/records", data=body, timeout=30,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == status, answer.text[:300]
    _refused_politely(answer)
    assert detail is None or detail in answer.json()["detail"][0]


def test_no_generated_body_or_query_string_gets_a_5xx(server):
    """Hypothesis against the real app under gunicorn: pathological JSON (depth, huge numbers, long strings, odd
    encodings, duplicate keys, raw bytes) and query strings; derandomized, so a failure replays the same way."""
    session = requests.Session()
    sent: list[int] = []

    @settings(max_examples=HOSTILE_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(body=HOSTILE_BODIES, query=st.dictionaries(st.sampled_from(["limit", "subject", "x"]), st.text(max_size=30),
                                                      max_size=3))
    def hostile(body: bytes, query: dict[str, str]) -> None:
        _refused_politely(session.post(f"{server.url}/api/records", data=body, timeout=30,
                                       headers={"Content-Type": "application/json"}))
        _refused_politely(session.get(f"{server.url}/api/records", params=query, timeout=30))
        sent.append(1)

    hostile()
    assert len(sent) >= HOSTILE_EXAMPLES
