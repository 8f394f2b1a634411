"""python -m reports kpis on recorded fixtures: a GitHub workflow-runs export (two pages, as gh api --slurp writes
them) and the deploy workflow's delivery records for November 2026 (prod and staging, both steps, one record
before the window)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from gates import provenance
from gates.deliveries import DeliveryError, DeploymentRecord, RollbackRecord, read_records, write_record
from ops import record
from reports.__main__ import main

SHA = "0123abcd" * 5
FIXTURES = Path(__file__).with_name("fixtures") / "kpis"
UNTIL = "2026-12-01T00:00:00+00:00"
PASSING = ("kpis: PASS: prod, 30 days to 2026-12-01: deployment frequency 1.87/week (≥ 1/week), lead time 5.6 h "
           "(≤ 24 h), change failure rate 12.5% (≤ 15%), time to restore 11 min (≤ 15 min), pipeline 7.9 min "
           "(≤ 10 min)")


@pytest.fixture
def fixtures(tmp_path) -> Path:
    return Path(shutil.copytree(FIXTURES, tmp_path / "kpis"))


def _kpis(fixtures: Path, *extra: str) -> int:
    return main(["kpis", "--runs", str(fixtures / "runs.json"), "--records", str(fixtures / "records"),
                 "--until", UNTIL, "--out", str(fixtures / "kpis.json"), *extra])


def test_the_four_keys_and_the_pipeline_from_the_recorded_fixtures(fixtures, capsys):
    assert _kpis(fixtures) == 0
    assert capsys.readouterr().out.strip() == PASSING
    written = json.loads((fixtures / "kpis.json").read_text())
    assert {k["name"]: k["verdict"] for k in written["kpis"]} == {
        "deployment_frequency": "pass", "lead_time": "pass", "change_failure_rate": "pass",
        "time_to_restore": "pass", "pipeline": "pass"}
    assert provenance.read(fixtures / "kpis.json") is not None


def test_a_release_rolled_back_later_counts_as_a_failure_and_its_restore_time(fixtures, capsys):
    promoted = next(r for r in read_records(fixtures / "records") if isinstance(r, DeploymentRecord)
                    and r.env == "prod" and r.step == "primary" and r.outcome == "promoted")
    noticed = promoted.finished_at + dt.timedelta(hours=3)
    write_record(RollbackRecord(env="prod", region="us-east-1", commit=promoted.commit, detected_at=noticed,
                                started_at=noticed + dt.timedelta(minutes=4), reason="5xx after a schema change",
                                finished_at=noticed + dt.timedelta(minutes=31)), fixtures / "records")
    assert _kpis(fixtures) == 1
    line = capsys.readouterr().out
    assert line.startswith("kpis: FAIL: ") and "change failure rate 25% (≤ 15%)" in line
    assert "time to restore 21 min (≤ 15 min)" in line  # the median of 11 and 31 minutes


def test_staging_is_measured_apart_and_without_failures_restore_time_is_not_judged(fixtures, capsys):
    for path in (fixtures / "records").glob("*staging*"):
        data = json.loads(path.read_text())
        if data["outcome"] == "rolled_back":
            path.write_text(json.dumps({**data, "outcome": "promoted"}))
    assert _kpis(fixtures, "--env", "staging") == 0
    line = capsys.readouterr().out
    assert "change failure rate 0% (≤ 15%)" in line and "time to restore no failure to restore (≤ 15 min)" in line


@pytest.mark.parametrize(("change", "expected"), [
    (lambda f: [p.unlink() for p in (f / "records").glob("*.json")], "deployment frequency no data"),
    (lambda f: (f / "runs.json").write_text(json.dumps([{"workflow_runs": []}])), "lead time no data"),
])
def test_a_kpi_without_data_is_inconclusive_never_a_pass(fixtures, capsys, change, expected):
    change(fixtures)
    assert _kpis(fixtures) == 2
    out = capsys.readouterr().out
    assert out.startswith("kpis: INCONCLUSIVE: ") and expected in out


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: shutil.rmtree(f / "records"), "no such folder of delivery records"),
    (lambda f: (f / "records" / "bad.json").write_text('{"kind": "deployment", "env": "prod"}'), "bad.json"),
    (lambda f: (f / "runs.json").write_text('{"runs": []}'), "not an export of GitHub workflow runs"),
    (lambda f: (f / "runs.json").write_text("not json"), "runs.json"),
])
def test_unreadable_inputs_are_inconclusive_and_leave_no_result(fixtures, capsys, change, message):
    assert _kpis(fixtures) == 0
    change(fixtures)
    assert _kpis(fixtures) == 2
    assert message in capsys.readouterr().err
    assert not (fixtures / "kpis.json").exists()


def test_records_refuse_times_without_a_zone_and_an_end_before_the_start(tmp_path):
    start = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    fields = dict(env="prod", step="primary", commit="ab" * 20, run_id="1", outcome="promoted")
    with pytest.raises(ValueError, match="time zone"):
        DeploymentRecord(**fields, started_at=start.replace(tzinfo=None), finished_at=start)
    with pytest.raises(ValueError, match="before started_at"):
        DeploymentRecord(**fields, started_at=start, finished_at=start - dt.timedelta(seconds=1))
    (tmp_path / "x.json").write_text(json.dumps({**fields, "kind": "deployment", "started_at": "2026-11-02T10:00:00",
                                                 "finished_at": "2026-11-02T10:30:00+00:00"}))
    with pytest.raises(DeliveryError, match="x.json: deployment.started_at: Value error, a time without a time zone"):
        read_records(tmp_path)


def test_the_workflow_commands_write_records_the_kpis_read(tmp_path, capsys):
    from ops.__main__ import main as ops_main

    assert ops_main(["record-deployment", "--env", "prod", "--step", "primary", "--commit", SHA,
                     "--run-id", "42", "--started-at", "2026-11-30T10:00:00+00:00", "--outcome", "promoted",
                     "--out", str(tmp_path)]) == 0
    assert ops_main(["record-deployment", "--env", "prod", "--step", "primary", "--commit", SHA,
                     "--run-id", "42", "--started-at", "2026-11-30T10:00:00", "--outcome", "promoted",
                     "--out", str(tmp_path)]) == 2  # no time zone
    options = argparse.Namespace(region="us-east-1", commit=SHA, detected_at=None, reason="bad release",
                                 record=tmp_path)
    started = dt.datetime.now(dt.UTC)
    assert record.rollback(options, started, "prod") == 0
    assert record.rollback(argparse.Namespace(**{**vars(options), "commit": None}), started, "prod") == 2
    assert "--commit and --reason are required" in capsys.readouterr().err
    (deployment, rollback) = sorted(read_records(tmp_path), key=lambda r: r.kind)
    assert deployment.outcome == "promoted" and rollback.detected_at == started


def test_a_short_sha_is_refused_so_records_of_one_release_always_match(tmp_path):
    start = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="commit"):
        RollbackRecord(env="prod", region="us-east-1", commit="0123abc", detected_at=start, started_at=start,
                       finished_at=start, reason="bad release")


def test_a_secondary_step_rolled_back_fails_the_change_too(fixtures, capsys):
    secondary = next(p for p in sorted((fixtures / "records").glob("deployment-prod-secondary-*.json")))
    data = json.loads(secondary.read_text())
    secondary.write_text(json.dumps({**data, "outcome": "rolled_back"}))
    assert _kpis(fixtures) == 1
    line = capsys.readouterr().out
    assert "change failure rate 25% (≤ 15%)" in line and "time to restore 18 min (≤ 15 min)" in line  # 11 and 25


def test_a_rollback_run_by_the_pipeline_leaves_its_record(tmp_path, monkeypatch, capsys):
    from ops import aws_driver
    from ops.__main__ import main as ops_main
    from ops.driver import RegionStatus, Status

    class Driver:
        def rollback(self, region):
            return f"{region}: stopped the running deployment with rollback"

        def status(self):
            return Status("us-east-1", {"us-east-1": RegionStatus("us-east-1", True, "blue", {"blue": 100})})

        def wait_settled(self, region, timeout_s):
            return False  # still rolling back at the limit: said, and the record ends there

    monkeypatch.setattr(aws_driver.AwsDriver, "for_environment", classmethod(lambda cls, env: Driver()))
    assert ops_main(["rollback", "--target", "aws", "--env", "staging", "--region", "us-east-1", "--record",
                     str(tmp_path), "--commit", SHA, "--reason", "staging verification failed"]) == 0
    (rollback,) = read_records(tmp_path)
    assert (rollback.env, rollback.region, rollback.commit) == ("staging", "us-east-1", SHA)
    out = capsys.readouterr()
    assert "rollback record" in out.out and "still running after 900 s" in out.err


def test_a_commit_rolled_back_once_and_promoted_on_a_rerun_is_one_failure(tmp_path):
    from policies.slo import load_slo
    from reports.kpis import compute

    start = dt.datetime(2026, 11, 10, 10, tzinfo=dt.UTC)
    records = [DeploymentRecord(env="prod", step=step, commit=SHA, run_id=run, started_at=at,
                                finished_at=at + dt.timedelta(minutes=12), outcome=outcome)
               for step, run, at, outcome in [("primary", "1", start, "promoted"),
                                              ("secondary", "1", start + dt.timedelta(minutes=15), "rolled_back"),
                                              ("primary", "2", start + dt.timedelta(days=1), "promoted"),
                                              ("secondary", "2", start + dt.timedelta(days=1, minutes=15), "promoted")]]
    report = compute(records, [], load_slo().delivery, env="prod", since=start - dt.timedelta(days=30),
                     until=start + dt.timedelta(days=2))
    kpis = {kpi.name: kpi for kpi in report.kpis}
    assert kpis["change_failure_rate"].observed == 50 and kpis["change_failure_rate"].basis == "1 of 2 deployments failed"
    assert kpis["time_to_restore"].observed == 12
