"""The canary judged while it bakes: the load profile runs at the environment for as long as the release's ECS
deployment shifts and bakes, so every bake minute carries at least the SLO's sample floor and the deployment
alarms have data to judge; a failed load run stops the deployment with rollback at once, instead of after
promotion.

    python -m ops judge-bake --env staging --region us-east-1 --image-tag <git sha> --profile staging \
        --host https://staging.records.example.com

Writes ``load/out/bake-<env>-<region>.json`` (the record of this deployment's bake: each load run's verdict and
how the deployment ended). Exit 0 the deployment succeeded and every load run passed; 1 a load run failed (the
deployment was rolled back) or ECS rolled it back; 2 inconclusive: the deployment never started, no load run
finished inside the bake, or a run could not judge.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gates import provenance
from ops.gunicorn import ROOT

RUNNING = ("PENDING", "IN_PROGRESS")
LOAD_EXIT = {0: "pass", 1: "fail", 2: "inconclusive"}
OUT = ROOT / "load" / "out"


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

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1))
        provenance.write(path)


Watch = Callable[[], "tuple[str, str] | None"]  # the release's deployment: (ARN, status), None before it starts


@dataclass(frozen=True, kw_only=True)
class BakeLimits:
    start_timeout_s: float = 45 * 60  # image push, scan and the stacks before the service take this long at most
    bake_timeout_s: float = 60 * 60
    poll_s: float = 15


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
    deadline = clock() + limits.bake_timeout_s
    while record.outcome in RUNNING and clock() <= deadline:
        started = clock()
        verdict = run_load()
        run = LoadRun(started, clock(), verdict)
        found = watch()
        record.outcome = found[1] if found else record.outcome
        # A run that ended after the deployment did judged some minutes of the new release alone: it counts.
        record.runs.append(run)
        if verdict == "fail" and record.outcome in RUNNING:
            record.outcome = f"rolled back by the bake: {roll_back()}"
    return _judged(record)


def _judged(record: BakeRecord) -> BakeRecord:
    verdicts = [run.verdict for run in record.runs]
    if "fail" in verdicts:
        record.verdict, record.reason = "fail", f"{verdicts.count('fail')} of {len(verdicts)} load runs failed"
    elif record.outcome.startswith("ROLLBACK") or record.outcome in ("STOPPED", "STOP_REQUESTED"):
        record.verdict, record.reason = "fail", f"the deployment ended {record.outcome}"
    elif record.outcome in RUNNING:
        record.reason = "the deployment still ran when the bake's time was up"
    elif not verdicts:
        record.reason = "no load run finished while the deployment baked: the canary went unjudged"
    elif "inconclusive" in verdicts:
        record.reason = f"{verdicts.count('inconclusive')} of {len(verdicts)} load runs could not judge"
    else:
        record.verdict = "pass"
        record.reason = f"{len(verdicts)} load runs passed; the deployment ended {record.outcome}"
    return record


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
    try:
        driver = AwsDriver.for_environment(env)
        judge_bake(record, lambda: driver.release_deployment(region, image_tag),
                   lambda: load_once(profile, host, OUT / f"bake-{env}-{region}" / str(len(record.runs) + 1)),
                   lambda: driver.rollback(region))
    except DriverError as error:
        record.verdict, record.reason = "inconclusive", str(error)
    record.write(path)
    print(f"bake: {record.verdict.upper()}: {env} {region} {image_tag}: {record.reason} ({path})")
    return {"pass": 0, "fail": 1}.get(record.verdict, 2)
