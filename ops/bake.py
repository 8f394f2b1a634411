"""The canary judged while it bakes: the load profile runs at the environment for as long as the release's ECS
deployment shifts and bakes, so every bake minute carries at least the SLO's sample floor and the deployment
alarms have data to judge; a failed load run stops the deployment with rollback at once, instead of after
promotion.

    python -m ops judge-bake --env staging --region us-east-1 --image-tag <git sha> --profile staging \
        --host https://staging.records.example.com

Writes ``load/out/bake-<env>-<region>.json`` (the record of this deployment's bake: each load run's verdict and
how the deployment ended) and, when it rolled the release back, a rollback record for the delivery KPIs
(``reports/collected/deployments/``). A failed run rolls back whether the deployment still runs (stopped with
rollback) or ECS has promoted it already (a deployment back to the revision it replaced). A deployment over
before the first look (a re-run) is judged by one run against the release as it runs.

Exit 0 the deployment succeeded and every load run passed; 1 a load run failed (the release was rolled back) or
ECS rolled it back; 2 inconclusive: the deployment never started, no load run finished inside the bake, or a run
could not judge.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gates import provenance
from gates.deliveries import RollbackRecord, write_record
from ops.gunicorn import ROOT

RUNNING = ("PENDING", "IN_PROGRESS")
PROMOTED = "SUCCESSFUL"
LOAD_EXIT = {0: "pass", 1: "fail", 2: "inconclusive"}
OUT = ROOT / "load" / "out"
DELIVERIES = ROOT / "reports" / "collected" / "deployments"  # the workflow keeps them in the evidence vault


@dataclass(frozen=True)
class LoadRun:
    started: float  # epoch seconds
    ended: float
    verdict: str  # pass, fail or inconclusive (python -m load's exit code)


@dataclass
class BakeRecord:
    env: str
    region: str
    image_tag: str
    deployment: str = ""  # the ECS service deployment's ARN
    outcome: str = "not started"  # its last status: SUCCESSFUL, ROLLBACK_..., or what the bake did
    runs: list[LoadRun] = field(default_factory=list)
    verdict: str = "inconclusive"
    reason: str = ""
    # When the bake rolled the release back: the failed run's end, and the rollback call's start and end (epoch s).
    rollback: dict[str, float] = field(default_factory=dict)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1))
        provenance.write(path)


Watch = Callable[[], "tuple[str, str] | None"]  # the release's deployment: (ARN, status), None before it starts


@dataclass(frozen=True, kw_only=True)
class BakeLimits:
    """Waits that add up to less than the hour an OIDC role session lasts (a test holds them to it), so the
    rollback call never meets expired credentials."""

    start_timeout_s: float = 20 * 60  # image push, scan and the stacks before the service
    bake_timeout_s: float = 28 * 60  # staging: a 10-minute canary step, 10 minutes of bake, task starts
    run_s: float = 6 * 60  # one load run: the profile's 5 minutes, Locust's start and the judging
    rollback_wait_s: float = 10 * 60  # a rollback deployment back to the previous revision, to the end
    poll_s: float = 15

    @property
    def longest_s(self) -> float:
        return self.start_timeout_s + self.bake_timeout_s + self.rollback_wait_s


def judge_bake(record: BakeRecord, watch: Watch, run_load: Callable[[], str], roll_back: Callable[[], str], *,
               limits: BakeLimits = BakeLimits(), clock: Callable[[], float] = time.time,
               sleep: Callable[[float], None] = time.sleep) -> BakeRecord:
    """Wait for the release's deployment, run the load while it runs, roll it back on a failed run; judge."""
    deadline = clock() + limits.start_timeout_s
    found = watch()
    while found is None:
        if clock() > deadline:
            record.reason = f"no deployment of {record.image_tag} started within {limits.start_timeout_s:g} s"
            return record
        sleep(limits.poll_s)
        found = watch()
    record.deployment, record.outcome = found
    if record.outcome == PROMOTED:
        # Over before the first look (a re-run, a late runner): one run judges the release as it now runs.
        _judge_run(record, watch, run_load, roll_back, clock)
        return _judged(record, after=True)
    deadline = clock() + limits.bake_timeout_s
    # A run starts only if it ends inside the bake's time, so a rollback after it still has its own.
    while record.outcome in RUNNING and clock() + limits.run_s <= deadline:
        _judge_run(record, watch, run_load, roll_back, clock)
    return _judged(record)


def _judge_run(record: BakeRecord, watch: Watch, run_load: Callable[[], str], roll_back: Callable[[], str],
               clock: Callable[[], float]) -> None:
    """One load run, the deployment's status after it, and on a failed run the rollback of a release that is
    rolling out or was promoted (a run that ended after ECS promoted it judged minutes of it alone); one ECS
    rolled back or stopped itself needs none."""
    started = clock()
    verdict = run_load()
    record.runs.append(LoadRun(started, clock(), verdict))
    found = watch()
    record.outcome = found[1] if found else record.outcome
    if verdict == "fail" and not record.rollback and record.outcome in (*RUNNING, PROMOTED):
        detected = clock()
        result = roll_back()
        record.rollback = {"detected_at": detected, "started_at": detected, "finished_at": clock()}
        record.outcome = f"rolled back by the bake: {result}"


def _judged(record: BakeRecord, *, after: bool = False) -> BakeRecord:
    verdicts = [run.verdict for run in record.runs]
    when = " (judged after the deployment had ended)" if after else ""
    if "fail" in verdicts:
        record.verdict = "fail"
        record.reason = f"{verdicts.count('fail')} of {len(verdicts)} load runs failed{when}"
    elif record.outcome.startswith("ROLLBACK") or record.outcome in ("STOPPED", "STOP_REQUESTED"):
        record.verdict, record.reason = "fail", f"the deployment ended {record.outcome}"
    elif record.outcome in RUNNING:
        record.reason = "the deployment still ran when the bake's time was up"
    elif not verdicts:
        record.reason = "no load run finished while the deployment baked: the canary went unjudged"
    elif "inconclusive" in verdicts:
        record.reason = f"{verdicts.count('inconclusive')} of {len(verdicts)} load runs could not judge{when}"
    else:
        record.verdict = "pass"
        record.reason = f"{len(verdicts)} load runs passed; the deployment ended {record.outcome}{when}"
    return record


def _rollback_record(record: BakeRecord) -> None:
    """The bake's rollback, for the delivery KPIs: a failed change, restored from the failed run's end."""
    def moment(key: str) -> dt.datetime:
        return dt.datetime.fromtimestamp(record.rollback[key], dt.UTC)

    written = write_record(RollbackRecord(
        env=record.env, region=record.region, commit=record.image_tag, detected_at=moment("detected_at"),
        started_at=moment("started_at"), finished_at=moment("finished_at"),
        reason=f"a load run failed during the canary's bake ({record.outcome})"), DELIVERIES)
    print(f"bake: rollback record {written}")


def load_once(profile: str, host: str, out: Path) -> str:
    """One load-gate run in its own process (Locust patches the process it runs in for gevent)."""
    done = subprocess.run([sys.executable, "-m", "load", "--profile", profile, "--host", host, "--out", str(out)],
                          cwd=ROOT, check=False)
    return LOAD_EXIT.get(done.returncode, "inconclusive")


def main(env: str, region: str, image_tag: str, profile: str, host: str) -> int:
    from ops.aws_driver import AwsDriver
    from ops.driver import DriverError

    record = BakeRecord(env=env, region=region, image_tag=image_tag)
    path = OUT / f"bake-{env}-{region}.json"
    limits = BakeLimits()
    try:
        driver = AwsDriver.for_environment(env)

        def roll_back() -> str:
            """Until the rollback has finished, so its record measures the restore, not the API call."""
            said = driver.rollback(region)
            if driver.wait_settled(region, limits.rollback_wait_s):
                return said
            return f"{said}; still rolling back after {limits.rollback_wait_s:g} s"

        judge_bake(record, lambda: driver.release_deployment(region, image_tag),
                   lambda: load_once(profile, host, OUT / f"bake-{env}-{region}" / str(len(record.runs) + 1)),
                   roll_back, limits=limits)
    except DriverError as error:
        record.verdict, record.reason = "inconclusive", str(error)
    record.write(path)
    if record.rollback:
        _rollback_record(record)
    print(f"bake: {record.verdict.upper()}: {env} {region} {image_tag}: {record.reason} ({path})")
    return {"pass": 0, "fail": 1}.get(record.verdict, 2)
