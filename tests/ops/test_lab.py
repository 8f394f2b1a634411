"""The lab itself: real HAProxy, PostgreSQL streaming replication and gunicorn on loopback, and nothing left
running afterwards."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from features.steps.drill_steps import eventually, write_refused_with_503
from gates import drills as drill_report
from gates import provenance
from gates.custody import current_commit
from ops.driver import DriverError
from ops.lab import __main__ as lab_cli
from ops.lab.driver import LabDriver, LabReset
from ops.lab.haproxy import Haproxy, HaproxyError, Server, render
from ops.lab.topology import STATE_FILE, LabError, LabState, down, up

ROOT = Path(__file__).resolve().parents[2]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())  # a zombie is gone, only unreaped


@pytest.fixture
def lab_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory for the test's own lab, torn down afterwards however the test ended."""
    yield tmp_path
    if (tmp_path / STATE_FILE).exists():
        down(tmp_path)


def test_the_cli_brings_the_lab_up_and_down_leaving_nothing_behind(lab_dir, capsys):
    assert lab_cli.main(["up", "--dir", str(lab_dir)]) == 0
    assert capsys.readouterr().out.startswith("lab: up: front http://127.0.0.1:")
    state = LabState.read(lab_dir)
    ports = [state.front_port] + [r.balancer_port for r in state.regions.values()] + [
        int(s["port"]) for r in state.regions.values() for s in r.services.values()] + [
        r.database_port for r in state.regions.values()] + [r.cache_port for r in state.regions.values()]
    try:
        assert all(_listening(port) for port in ports)
        assert lab_cli.main(["status", "--dir", str(lab_dir)]) == 0
        assert all(json.loads(capsys.readouterr().out)["alive"].values())
        assert lab_cli.main(["up", "--dir", str(lab_dir)]) == 1  # one lab per directory
        assert "already up" in capsys.readouterr().err
        driver = LabDriver(lab_dir)
        record_id = driver.write({"subject": "lab", "kind": "note", "body": "replicated", "client_ref": "lab-1"})
        assert driver.read(record_id)["body"] == "replicated"
        # The standby in us-east-2 streams from the primary: the write shows up there.
        eventually(lambda: driver.read(record_id, region="us-east-2"), timeout_s=10)
        assert lab_cli.main(["reset", "--dir", str(lab_dir)]) == 0
        assert capsys.readouterr().out.strip() == "lab: reset: repaired"
        # A restore a drill left behind (its scenario interrupted) is the lab's too: `down` stops it.
        driver.refresh()
        driver.base_backup("us-east-1")
        restored = driver.restore_database("us-east-1", driver.database_time("us-east-1"), "left-behind")
        ports.append(int(restored.endpoint.rsplit(":", 1)[1]))
        assert _listening(ports[-1])
    finally:
        assert lab_cli.main(["down", "--dir", str(lab_dir)]) == 0
    assert not any(_listening(port) for port in ports)
    assert not any(_alive(pid) for pid in state.pids())
    assert lab_cli.main(["down", "--dir", str(lab_dir)]) == 1
    assert "no lab is up" in capsys.readouterr().err


def test_unknown_faults_are_refused(tmp_path):
    with pytest.raises(LabError, match="unknown lab faults"):
        up(tmp_path, faults=frozenset({"meteor"}))


def test_a_port_taken_by_another_worker_builds_the_lab_once_more_and_nothing_else_does(tmp_path, monkeypatch):
    from ops.lab import topology

    failures = [LabError("lab did not come up: pg_ctl failed: Address already in use"), None]
    calls = []

    def build(directory, version, faults):
        calls.append(directory)
        failure = failures.pop(0)
        if failure:
            raise failure
        return "built"

    monkeypatch.setattr(topology, "build", build)
    assert topology.up(tmp_path) == "built" and len(calls) == 2
    failures[:] = [LabError("lab did not come up: redis-server exited"), None]
    with pytest.raises(LabError, match="redis-server exited"):
        topology.up(tmp_path)


def test_haproxy_refuses_a_bad_config_and_a_dead_socket(lab_dir):
    broken = Haproxy("x", 0, lab_dir, [Server("a", 70000)])
    with pytest.raises(HaproxyError, match="x.cfg"):
        broken.start()
    with pytest.raises(HaproxyError, match="runtime API"):
        Haproxy("y", 1, lab_dir, []).command("show info")
    assert "backup" in render("f", 1, lab_dir / "s", [Server("b", 2, backup=True)])


def test_the_drills_fail_on_a_lab_without_a_backup_region_or_flags(lab_dir):
    """The failover drill must notice when failover cannot happen (a front without a backup region), and the
    switchover drill when read_only pauses nothing (servers without their flag file)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "features/test_drills.py", "-k",
         "switch_over or (primary_region_is_lost and not stalled)", "-q", "-p", "no:cacheprovider", "--no-cov",
         "--lab-fault", "no-backup-region", "--lab-fault", "no-flag-file", "-o", "addopts=",
         f"--cucumberjson={lab_dir / 'cucumber.json'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "DRILL_OUT": str(lab_dir)},
    )
    assert done.returncode == 1 and "2 failed" in done.stdout, done.stdout[-3000:]
    # Each fails where the fault bites, not earlier (a lab or writer that never started).
    assert "in traffic_moves" in done.stdout and "in writes_refused" in done.stdout, done.stdout[-3000:]
    assert "not true within" in done.stdout, done.stdout[-3000:]
    # A drill run leaves both of its files with their provenance, as a release bundle requires.
    for result in ("cucumber.json", "measurements.json"):
        found = provenance.read(lab_dir / result)
        assert found is not None and found.commit == current_commit(), result


def test_a_reset_repairs_what_drills_do_and_rebuilds_after_a_promotion(lab_dir):
    assert lab_cli.main(["up", "--dir", str(lab_dir)]) == 0
    driver = LabDriver(lab_dir)
    # What the traffic drills leave behind: a partial shift, a region out of service.
    driver.shift_traffic("us-east-1", 50)
    driver.fail_region("us-east-2")
    assert driver.reset() == LabReset("repaired")
    status = driver.status()
    assert status.active_region == "us-east-1"
    assert all(r.weights == {r.live_colour: 100, ({"blue", "green"} - {r.live_colour}).pop(): 0}
               for r in status.regions.values())
    assert all(r.healthy for r in status.regions.values())
    # A lost primary comes back while the standby still follows it ...
    driver.fail_region("us-east-1")
    driver.restore_region("us-east-1")
    assert driver._database("us-east-1").running
    # ... but never after the standby was promoted: that would be a second writer.
    driver.fail_region("us-east-1")
    driver.promote_replica("us-east-2")
    with pytest.raises(DriverError, match="the standby was promoted; rebuild us-east-1's database"):
        driver.restore_region("us-east-1")
    assert not driver._database("us-east-1").running
    before = LabState.read(lab_dir)
    assert driver.reset() == LabReset("rebuilt", "the standby was promoted or is down")
    assert not any(_alive(pid) for pid in before.pids())
    after = LabState.read(lab_dir)
    assert (Path(after.postgres_roots["us-east-2"]) / "data" / "standby.signal").exists()
    record_id = driver.write({"subject": "lab", "kind": "note", "body": "rebuilt", "client_ref": "lab-2"})
    eventually(lambda: driver.read(record_id, region="us-east-2"), timeout_s=10)


def _measurements(path: Path, rows: list[tuple[Any, ...]], verdict: str = "pass") -> Path:
    """(feature, metric, observed, threshold[, context]) rows, as the drill steps record them."""
    path.write_text(json.dumps({"measurements": [
        {"feature": f, "metric": m, "observed": v, "comparison": "<=", "threshold": t, "verdict": verdict,
         **(rest[0] if rest else {})}
        for f, m, v, t, *rest in rows]}))
    return path


EVERY_MEASURE = [
    ("failover", "rto_seconds", 3.2, 900), ("failover", "rto_vs_model_seconds", 3.2, 5), ("failover", "rpo_writes", 1, 9),
    ("switchover", "rpo_writes", 0, 0), ("switchover", "writes_while_paused", 0, 0),
    ("blue_green", "promotion_failed_requests", 0, 0),
    ("rollback", "rollback_seconds", 7.5, 300), ("traffic_failover", "failover_seconds", 1.5, 900),
    ("traffic_failover", "failback_seconds", 0.8, 900),
    ("game_day", "error_budget_percent", 0.116, 5, {"failed_requests": 4}), ("az_loss", "failed_beyond_window", 0, 0),
    ("database_restart", "recovery_seconds", 1.2, 300), ("cache_outage", "read_p95_ms", 6, 300),
    ("stalled_replica", "rpo_writes", 111, 500), ("restore", "restore_seconds", 0.2, 900),
]


def test_the_drill_report_names_each_measure(tmp_path, capsys):
    path = _measurements(tmp_path / "m.json", EVERY_MEASURE)
    assert drill_report.main([str(path)]) == 0
    assert capsys.readouterr().out.strip() == (
        "drills: failover rto 3.2 s (model ≤ 5.0 s), failover rpo 1 writes, switchover rpo 0 writes (0 "
        "while paused), promotion errors 0, rollback 7.5 s, traffic failover 1.5 s, failback 0.8 s, game-day errors 4 (budget "
        "0.116%), az loss errors 0, db restart recovery 1.2 s, cache outage p95 6 ms, stalled-replica rpo 111 writes, "
        "restore 0.2 s")
    path.write_text(json.dumps({"measurements": [{"feature": "failover", "metric": "rto_seconds",
                                                  "observed": 1, "verdict": "fail", "comparison": "<=",
                                                  "threshold": 0}]}))
    assert drill_report.main([str(path)]) == 1
    assert "FAIL" in capsys.readouterr().out
    path.write_text("{}")
    assert drill_report.main([str(path)]) == 2


def test_a_measurement_over_its_threshold_fails_whatever_verdict_it_carries(tmp_path, capsys):
    """The summary judges observed against threshold itself: a file claiming pass for a lab slower than its
    model (6.1 s against 5.0 s) fails."""
    rows = [row if row[1] != "rto_vs_model_seconds" else ("failover", "rto_vs_model_seconds", 6.1, 5.0)
            for row in EVERY_MEASURE]
    assert drill_report.main([str(_measurements(tmp_path / "m.json", rows))]) == 1
    assert "[failed: failover.rto_vs_model_seconds 6.1 (threshold <= 5.0)]" in capsys.readouterr().out
    broken = [(*row[:3], "many") if row[1] == "restore_seconds" else row for row in EVERY_MEASURE]
    assert drill_report.main([str(_measurements(tmp_path / "m.json", broken))]) == 2
    assert "ValueError" in capsys.readouterr().err


def test_a_missing_new_drill_is_not_a_pass(tmp_path, capsys):
    rows = [row for row in EVERY_MEASURE if row[0] != "restore"]
    assert drill_report.main([str(_measurements(tmp_path / "m.json", rows))]) == 2
    assert "[not measured: restore.restore_seconds]" in capsys.readouterr().out


def test_the_drill_report_requires_what_should_have_run_against_aws(tmp_path, capsys):
    # Against AWS without --destructive only the traffic drill runs; its measurements are all that is needed.
    measured = tmp_path / "measurements.json"
    measured.write_text(json.dumps({"measurements": [
        {"feature": "traffic_failover", "metric": m, "observed": 2, "comparison": "<=", "threshold": 300,
         "verdict": "pass"} for m in ("failover_seconds", "failback_seconds")]}))
    assert drill_report.main([str(measured), "--target", "aws"]) == 0
    assert capsys.readouterr().out.strip() == "drills: traffic failover 2.0 s, failback 2.0 s"
    # With --destructive the failover and switchover drills should have run: their absence is no pass.
    assert drill_report.main([str(measured), "--target", "aws", "--destructive"]) == 2
    assert "not measured: failover.rto_seconds, failover.rpo_writes, switchover.rpo_writes, switchover.writes_while_paused" in capsys.readouterr().out
    # On the lab everything runs.
    assert drill_report.main([str(measured)]) == 2


def test_the_features_skipped_on_aws_are_read_from_their_tags(tmp_path):
    for name, tag in (("a", "@lab_only\n"), ("b", "@destructive\n"), ("c", "")):
        (tmp_path / f"{name}.feature").write_text(f"{tag}Feature: {name}\n\n  @lab_only\n  Scenario: x\n")
    assert drill_report.skipped_on_purpose(tmp_path, target="aws", destructive=False) == {"a", "b"}
    assert drill_report.skipped_on_purpose(tmp_path, target="aws", destructive=True) == {"a"}
    assert drill_report.skipped_on_purpose(tmp_path, target="lab", destructive=False) == set()


def test_the_rollback_command_needs_a_lab(tmp_path, capsys):
    from ops import __main__ as ops_cli

    assert ops_cli.main(["rollback", "--region", "us-east-1", "--dir", str(tmp_path)]) == 2
    assert ops_cli.main(["read-only", "on", "--dir", str(tmp_path)]) == 2
    assert "no lab is up" in capsys.readouterr().err


def test_the_rpo_and_the_lab_model_checks_fail_when_the_drills_exceed_them(lab_dir):
    """Two must-shows in one lab run: the stall loses about three seconds of writes, more than an RPO objective of
    one second allows; the failover's RTO is more than a lab model of half a second allows."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "features/test_drills.py", "-k",
         "replication_stalled or (primary_region_is_lost and not stalled)", "-q", "-p", "no:cacheprovider",
         "--no-cov", "--rpo-objective-seconds", "1", "--rto-model-seconds", "0.5", "-o", "addopts=",
         f"--cucumberjson={lab_dir / 'cucumber.json'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "DRILL_OUT": str(lab_dir)},
    )
    assert done.returncode == 1 and "2 failed" in done.stdout, done.stdout[-3000:]
    assert "acknowledged writes over" in done.stdout and "the RPO is 1 s" in done.stdout, done.stdout[-3000:]
    assert "exceeds its own budget model's 0.5 s" in done.stdout, done.stdout[-3000:]
    measured = {(m["feature"], m["metric"]): m
                for m in json.loads((lab_dir / "measurements.json").read_text())["measurements"]}
    window, lost = measured["stalled_replica", "rpo_window_seconds"], measured["stalled_replica", "rpo_writes"]
    assert window["verdict"] == "fail" and window["threshold"] == 1 and window["observed"] > 3
    assert lost["verdict"] == "fail" and lost["observed"] > lost["threshold"]
    assert measured["failover", "rto_vs_model_seconds"]["verdict"] == "fail"


def test_faults_are_repaired_by_a_reset_and_a_stall_rebuilds(lab_dir):
    assert lab_cli.main(["up", "--dir", str(lab_dir)]) == 0
    driver = LabDriver(lab_dir)
    with pytest.raises(DriverError, match=r"only \['blue'\] takes traffic; losing it is an outage"):
        driver.lose_app_server("us-east-1")
    with pytest.raises(DriverError, match="no base backup to restore from"):
        driver.restore_database("us-east-1", driver.database_time("us-east-1"), "nothing")
    driver.base_backup("us-east-1")
    with pytest.raises(DriverError, match="is in the future; nothing to restore to yet"):
        driver.restore_database("us-east-1", driver.database_time("us-east-1") + dt.timedelta(hours=1), "later")
    driver.shift_traffic("us-east-1", 50)
    lost = driver.lose_app_server("us-east-1")
    driver.lose_cache("us-east-2")
    assert driver.cached_keys("us-east-2") == 0
    driver.restart_database("us-east-1", down_s=0.1)
    from ops import __main__ as ops_cli

    assert ops_cli.main(["read-only", "on", "--dir", str(lab_dir)]) == 0  # both regions pause within the TTL
    eventually(lambda: write_refused_with_503(driver), timeout_s=10)
    before = LabState.read(lab_dir)
    assert driver.reset() == LabReset("repaired")
    after = LabState.read(lab_dir)
    # The same lab, with the killed server and cache started again where they were.
    assert after.front_pid == before.front_pid and after.regions["us-east-2"].cache_port == \
        before.regions["us-east-2"].cache_port
    assert _alive(int(after.regions["us-east-1"].services[lost]["pid"]))
    assert driver.status().regions["us-east-1"].weights[lost] == 0
    # The pause is over after a reset: this write is acknowledged.
    record_id = driver.write({"subject": "lab", "kind": "note", "body": "after", "client_ref": "faults-1"})
    eventually(lambda: driver.read(record_id, region="us-east-2"), timeout_s=10)
    driver.stall_replication("us-east-2")
    assert driver.reset() == LabReset("rebuilt", "us-east-2's standby does not stream from us-east-1 "
                                                 "(replication stalled)")
