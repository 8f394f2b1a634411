"""The canary judged during its bake (ops/bake.py): load runs while the deployment runs, a failed run rolls it back
at once, and nothing short of a finished deployment with passing runs is a pass."""

from __future__ import annotations

import json

import pytest

from gates import provenance
from gates.deliveries import read_records
from load.profile import load_profile
from ops import bake
from ops.bake import BakeLimits, BakeRecord, judge_bake
from policies.slo import load_slo

SHA = "0123abcd" * 5
LIMITS = BakeLimits(start_timeout_s=60, bake_timeout_s=900, run_s=300, poll_s=15)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _states(*answers):
    """watch() answers in order; the last one repeats."""
    pending = list(answers)
    return lambda: pending.pop(0) if len(pending) > 1 else pending[0]


def _loads(clock, *verdicts):
    runs = list(verdicts)

    def run() -> str:
        clock.now += 300
        return runs.pop(0)
    return run


def _judge(watch, run_load, roll_back=lambda: "stopped", clock=None):
    clock = clock or Clock()
    return judge_bake(BakeRecord(env="staging", region="us-east-1", image_tag="abc"), watch, run_load, roll_back,
                      limits=LIMITS, clock=clock, sleep=clock.sleep)


def test_load_runs_until_the_deployment_ends_and_passing_runs_pass():
    clock = Clock()
    watch = _states(None, ("arn:dep/1", "IN_PROGRESS"), ("arn:dep/1", "IN_PROGRESS"), ("arn:dep/1", "IN_PROGRESS"),
                    ("arn:dep/1", "SUCCESSFUL"))
    record = _judge(watch, _loads(clock, "pass", "pass", "pass"), clock=clock)
    assert record.verdict == "pass" and record.deployment == "arn:dep/1" and record.outcome == "SUCCESSFUL"
    assert [run.verdict for run in record.runs] == ["pass", "pass", "pass"]
    # Back to back: no bake minute without load.
    assert all(later.started == earlier.ended for earlier, later in zip(record.runs, record.runs[1:], strict=False))


def test_a_failed_run_rolls_the_running_deployment_back_at_once():
    clock, rolled = Clock(), []
    watch = _states(("arn:dep/2", "IN_PROGRESS"))
    record = _judge(watch, _loads(clock, "pass", "fail", "pass"), lambda: rolled.append(1) or "stopped", clock)
    assert rolled == [1] and len(record.runs) == 2
    assert record.verdict == "fail" and record.outcome == "rolled back by the bake: stopped"
    assert record.reason == "1 of 2 load runs failed"
    assert record.rollback["detected_at"] == record.runs[-1].ended


def test_a_run_that_fails_after_ecs_promoted_the_release_still_rolls_it_back():
    """The last run often ends after the deployment does: its failure must not leave the bad release live."""
    clock, rolled = Clock(), []
    watch = _states(("arn:dep/3", "IN_PROGRESS"), ("arn:dep/3", "SUCCESSFUL"))
    record = _judge(watch, _loads(clock, "fail"), lambda: rolled.append(1) or "deployment back to records:6", clock)
    assert rolled == [1] and record.verdict == "fail"
    assert record.outcome == "rolled back by the bake: deployment back to records:6"


@pytest.mark.parametrize(("verdict", "expected"), [("pass", "pass"), ("fail", "fail")])
def test_a_deployment_over_before_the_first_look_is_judged_by_one_run(verdict, expected):
    """A re-run, or a runner that started late: the release as it now runs is judged, not waved through."""
    clock, rolled = Clock(), []
    record = _judge(_states(("arn:dep/4", "SUCCESSFUL")), _loads(clock, verdict),
                    lambda: rolled.append(1) or "back", clock)
    assert record.verdict == expected and len(record.runs) == 1
    assert "judged after the deployment had ended" in record.reason
    assert rolled == ([1] if verdict == "fail" else [])


def test_a_deployment_ecs_rolled_back_fails_even_when_the_load_passed():
    clock = Clock()
    record = _judge(_states(("arn:dep/3", "IN_PROGRESS"), ("arn:dep/3", "ROLLBACK_SUCCESSFUL")),
                    _loads(clock, "pass"), clock=clock)
    assert record.verdict == "fail" and record.reason == "the deployment ended ROLLBACK_SUCCESSFUL"


@pytest.mark.parametrize(("watch", "verdicts", "reason"), [
    (_states(None), [], "no deployment of abc started within 60 s"),
    (_states(("arn:dep/5", "IN_PROGRESS"), ("arn:dep/5", "SUCCESSFUL")), ["inconclusive"],
     "1 of 1 load runs could not judge"),
    (_states(("arn:dep/6", "IN_PROGRESS")), ["pass", "pass", "pass"], "still ran when the bake's time was up"),
])
def test_what_judged_nothing_is_inconclusive_never_a_pass(watch, verdicts, reason):
    clock = Clock()
    record = _judge(watch, _loads(clock, *verdicts), clock=clock)
    assert record.verdict == "inconclusive" and reason in record.reason


def test_the_command_writes_the_record_with_its_provenance_and_exits_by_verdict(tmp_path, monkeypatch, capsys):
    from ops import __main__ as ops_cli
    from ops import aws_driver

    class Driver:
        answers = iter([("arn:dep/7", "IN_PROGRESS"), ("arn:dep/7", "SUCCESSFUL")])

        def release_deployment(self, region, tag):
            return next(self.answers)

        def wait_settled(self, region, timeout_s):
            return True

    monkeypatch.setattr(aws_driver.AwsDriver, "for_environment", classmethod(lambda cls, env: Driver()))
    monkeypatch.setattr(bake, "OUT", tmp_path)
    monkeypatch.setattr(bake, "load_once", lambda profile, host, out: "pass")
    assert ops_cli.main(["judge-bake", "--env", "staging", "--region", "us-east-1", "--image-tag", "abc",
                         "--profile", "staging", "--host", "https://staging.example.com"]) == 0
    path = tmp_path / "bake-staging-us-east-1.json"
    written = json.loads(path.read_text())
    assert written["verdict"] == "pass" and written["deployment"] == "arn:dep/7" and provenance.read(path)
    assert capsys.readouterr().out.startswith("bake: PASS: staging us-east-1 abc")
    Driver.answers = iter([("arn:dep/8", "IN_PROGRESS"), ("arn:dep/8", "IN_PROGRESS")])
    monkeypatch.setattr(bake, "load_once", lambda profile, host, out: "fail")
    monkeypatch.setattr(Driver, "rollback", lambda self, region: "stopped with rollback", raising=False)
    monkeypatch.setattr(bake, "DELIVERIES", tmp_path / "deployments")
    assert ops_cli.main(["judge-bake", "--env", "staging", "--region", "us-east-1", "--image-tag", SHA,
                         "--profile", "staging", "--host", "https://staging.example.com"]) == 1
    # The rollback is a failed change for the delivery KPIs, restored from the failed run's end.
    (rollback,) = read_records(tmp_path / "deployments")
    assert rollback.commit == SHA and rollback.env == "staging" and "canary" in rollback.reason


def test_a_target_that_cannot_be_resolved_is_inconclusive(tmp_path, monkeypatch):
    from ops import aws_driver
    from ops.driver import DriverError

    def unresolvable(cls, env):
        raise DriverError("stack records-staging-edge-global in us-east-1: not found")

    monkeypatch.setattr(aws_driver.AwsDriver, "for_environment", classmethod(unresolvable))
    monkeypatch.setattr(bake, "OUT", tmp_path)
    assert bake.main("staging", "us-east-1", "abc", "staging", "https://x") == 2
    assert "not found" in json.loads((tmp_path / "bake-staging-us-east-1.json").read_text())["reason"]


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_the_bake_profiles_carry_the_slo_sample_floor_in_every_minute(env):
    """The deployment alarms call a minute under the floor no data (never breaching): the load must exceed it."""
    profile, objectives = load_profile(env), load_slo().for_env(env)
    floor_per_minute = objectives.min_requests_per_window / objectives.evaluation_window_minutes
    assert profile.environment == env
    assert profile.min_rps * 60 >= floor_per_minute  # the run is inconclusive below min_rps, never a pass


def test_a_load_run_that_cannot_judge_is_inconclusive(tmp_path):
    """The real python -m load, in its own process: an unknown profile exits 2."""
    assert bake.load_once("no-such-profile", "http://127.0.0.1:9", tmp_path) == "inconclusive"


def test_the_bakes_waits_fit_in_the_role_session_the_workflow_asks_for():
    """Start, bake (runs end inside it) and the rollback's wait: the rollback call never meets expired
    credentials (deploy-environment.yml: role-duration-seconds 3600)."""
    assert BakeLimits().longest_s <= 3600 - 120


def test_a_run_starts_only_if_it_can_end_inside_the_bake():
    clock = Clock()
    record = judge_bake(BakeRecord(env="staging", region="us-east-1", image_tag="abc"),
                        _states(("arn:dep/9", "IN_PROGRESS")), _loads(clock, "pass", "pass"), lambda: "stopped",
                        limits=BakeLimits(start_timeout_s=60, bake_timeout_s=600, run_s=360, poll_s=15),
                        clock=clock, sleep=clock.sleep)
    assert len(record.runs) == 1  # a second run, started at 300 s, could end after 600 s


@pytest.mark.parametrize("ended", ["ROLLBACK_SUCCESSFUL", "STOPPED"])
def test_a_deployment_ecs_ended_itself_is_neither_judged_again_nor_rolled_back(ended):
    clock, rolled = Clock(), []
    record = _judge(_states(("arn:dep/5", ended)), _loads(clock), lambda: rolled.append(1) or "back", clock)
    assert record.verdict == "fail" and not record.runs and not rolled and not record.rollback
