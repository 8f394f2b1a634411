"""The load gate against the real service (gunicorn + PostgreSQL on loopback): pass, fail on injected latency and
errors (aborting early), inconclusive with too few requests, and the same gate with a master and two workers.

Runs are seconds long and bounded; one service serves every test, its behaviour switched through its flags file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from load.__main__ import main
from load.target import local_service

FLAGS_TTL_S = 1  # local_service sets FLAGS_TTL_S=1


def _profile(tmp_path: Path, **overrides: object) -> str:
    profile = {
        "environment": "dev", "users": 10, "spawn_rate": 10, "duration_s": 5, "wait_min_s": 0.05,
        "wait_max_s": 0.1, "weights": {"read": 4, "list": 2, "write": 2, "health": 1}, "min_rps": 5,
        "min_requests_per_endpoint": 10, "abort_after_requests": 50, "abort_failure_percent": 20, **overrides,
    }
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(profile))
    return str(path)


@pytest.fixture(scope="module")
def load_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("load-service")
    flags = root / "flags.json"
    flags.write_text("{}")
    # Threads mostly wait out injected latency; enough of them keep a slow run above the SLO's sample floor.
    with local_service(root, flags_file=flags, threads=16) as url:
        yield url, flags


@pytest.fixture
def flags(load_service: tuple[str, Path]) -> Iterator[Path]:
    path = load_service[1]
    yield path
    path.write_text("{}")
    time.sleep(FLAGS_TTL_S + 0.2)


def _set(flags: Path, document: dict) -> None:
    flags.write_text(json.dumps(document))
    time.sleep(FLAGS_TTL_S + 0.2)  # every worker re-reads within its TTL


def _gate(tmp_path: Path, service: tuple[str, Path], profile: str, *extra: str) -> tuple[int, dict]:
    out = tmp_path / "out"
    code = main(["--profile", profile, "--host", service[0], "--out", str(out), *extra])
    return code, json.loads((out / "gate.json").read_text())


def test_healthy_service_passes_and_the_gate_writes_its_reports(tmp_path, load_service, capsys):
    code, gate = _gate(tmp_path, load_service, _profile(tmp_path))
    assert code == 0, capsys.readouterr().out
    assert gate["verdict"] == "pass" and gate["aborted"] is False
    assert gate["total"]["requests"] >= 100
    endpoints = {m["endpoint"] for m in gate["metrics"] if m["metric"] == "p99_ms"}
    assert endpoints == {"read", "list", "write", "health"}
    assert all(m["status"] == "pass" for m in gate["metrics"])
    assert gate["endpoints"]["read"]["requests"] > 0 and gate["endpoints"]["read"]["p50_ms"] > 0
    for report in ("locust.html", "locust_stats.csv", "latency.png"):
        assert (tmp_path / "out" / report).stat().st_size > 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("load-gate: verdict PASS, requests ") and "p95 " in line and "failures 0.00%" in line


def test_injected_latency_fails_on_the_percentiles(tmp_path, load_service, flags, capsys):
    # Just above the p95 objective (300 ms); long enough a run to reach the sample floor despite the delay
    # (20 users at ~0.4 s a request: about 300 requests, 30 of them /health).
    _set(flags, {"inject_latency": {"enabled": True, "ms": 350}})
    code, gate = _gate(tmp_path, load_service, _profile(tmp_path, users=20, spawn_rate=20, duration_s=6))
    assert code == 1, gate["reasons"]
    failed = {(m["metric"], m["endpoint"]) for m in gate["metrics"] if m["status"] == "fail"}
    assert ("p95_ms", "read") in failed and ("p95_ms", "write") in failed
    assert "verdict FAIL" in capsys.readouterr().out


def test_injected_errors_fail_and_stop_the_run_early(tmp_path, load_service, flags):
    _set(flags, {"read_only": {"enabled": True}})  # every write answers 503
    profile = _profile(tmp_path, duration_s=30, weights={"read": 1, "write": 4})
    started = time.monotonic()
    code, gate = _gate(tmp_path, load_service, profile)
    assert code == 1
    assert gate["aborted"] is True and gate["reasons"][0].startswith("aborted early")
    (failure,) = [m for m in gate["metrics"] if m["metric"] == "failure_percent"]
    assert failure["status"] == "fail" and failure["observed"] > 20
    assert time.monotonic() - started < 30  # stopped well before the 30 s run time


def test_too_few_requests_are_inconclusive_not_a_pass(tmp_path, load_service):
    code, gate = _gate(tmp_path, load_service, _profile(tmp_path, users=1, duration_s=2, wait_min_s=0.5, wait_max_s=0.6))
    assert code == 2
    assert gate["verdict"] == "inconclusive"
    (requests,) = [m for m in gate["metrics"] if m["metric"] == "requests"]
    assert requests["status"] == "inconclusive" and requests["observed"] < 100


def test_one_master_and_two_workers_run_the_same_gate(tmp_path, load_service):
    code, gate = _gate(tmp_path, load_service, _profile(tmp_path), "--workers", "2")
    assert code == 0, gate["reasons"]
    assert gate["workers"] == 2 and gate["total"]["requests"] >= 100
    # A master elsewhere (workers on other machines): the gate judges the files it wrote, to the same verdict.
    assert main(["--profile", _profile(tmp_path), "--judge-only", str(tmp_path / "out")]) == 0
    again = json.loads((tmp_path / "out" / "gate.json").read_text())
    assert again["total"] == gate["total"] and again["verdict"] == "pass"


def test_a_non_dev_profile_without_a_host_does_not_judge_the_local_service(tmp_path, capsys):
    assert main(["--profile", "staging", "--out", str(tmp_path)]) == 2
    assert "give its --host" in capsys.readouterr().err
    assert not (tmp_path / "gate.json").exists()


def test_a_run_that_cannot_finish_leaves_no_old_verdict(tmp_path, load_service, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "gate.json").write_text('{"verdict": "pass"}')  # from an earlier run
    (out / "final_stats.json").write_text("{}")
    code = main(["--profile", _profile(tmp_path, duration_s=1, weights={"browse": 1}), "--host", load_service[0],
                 "--out", str(out)])
    assert code == 2  # the profile itself is refused
    bad_run = main(["--profile", _profile(tmp_path), "--host", load_service[0], "--out", str(out), "--workers", "-1"])
    assert bad_run == 2
    assert not (out / "gate.json").exists()


def test_judging_a_folder_without_stats_is_inconclusive(tmp_path, capsys):
    assert main(["--profile", _profile(tmp_path), "--judge-only", str(tmp_path)]) == 2
    assert "no stats" in capsys.readouterr().err


def test_an_unreachable_host_fails_on_failures(tmp_path):
    from ops.postgres import free_port

    out = tmp_path / "out"
    # Refused connections fail at once; the gate aborts on them after 20 requests however slow the machine is.
    code = main(["--profile", _profile(tmp_path, duration_s=20, abort_after_requests=20), "--host",
                 f"http://127.0.0.1:{free_port()}", "--out", str(out)])
    gate = json.loads((out / "gate.json").read_text())
    assert code == 1 and gate["verdict"] == "fail" and gate["aborted"] is True
