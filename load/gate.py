"""Run Locust headless against a host (or the local service) and judge the run against the SLO.

Locust's own exit code is set to 0 on failed requests (``--exit-code-on-error 0``): failures are data for the
judge, which alone decides the exit code (0 pass, 1 fail, 2 inconclusive or could not run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from gates import provenance
from gates.load import StatsError, Verdict, judge, read_stats
from load.chart import latency_chart

# Not imported from the locustfile: importing Locust monkey-patches the whole process for gevent.
from load.profile import ABORT_MARKER, FINAL_STATS, Profile
from ops.gunicorn import ROOT, stop_process
from ops.postgres import free_port
from policies.slo import ServiceLevelObjectives

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PREFIX = "locust"
GRACE_S = 60  # start-up, worker connection and shutdown on top of the run time


class GateError(RuntimeError):
    """Locust could not run or produced no statistics: the gate is inconclusive."""


@dataclass(frozen=True)
class Run:
    host: str
    out: Path
    workers: int
    started: float
    ended: float


LOCUST = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "WARNING"]


def run_locust(profile: Profile, host: str, out: Path, *, workers: int = 0, profile_ref: str = "local") -> Run:
    """Run one headless Locust (with ``workers`` worker processes on loopback when > 0).

    :raise GateError: Locust exited abnormally or timed out.
    """
    out.mkdir(parents=True, exist_ok=True)
    # A failed run must not leave a verdict (nor its provenance) behind.
    for stale in (ABORT_MARKER, FINAL_STATS, "gate.json", "gate.json" + provenance.SUFFIX, "latency.png"):
        (out / stale).unlink(missing_ok=True)
    env = {**os.environ, "LOAD_PROFILE": profile_ref, "LOAD_OUT": str(out), "PYTHONPATH": str(ROOT)}
    command = LOCUST + [
        "--headless", "--host", host, "--users", str(profile.users), "--spawn-rate", str(profile.spawn_rate),
        "--run-time", f"{profile.duration_s}s", "--stop-timeout", "5", "--exit-code-on-error", "0",
        # Full history: the chart's percentiles are then over recent seconds, not running totals.
        "--csv", str(out / PREFIX), "--csv-full-history", "--html", str(out / "locust.html"),
    ]
    processes: list[subprocess.Popen[bytes]] = []
    if workers:
        port = free_port()
        command += ["--master", "--expect-workers", str(workers), "--expect-workers-max-wait", "30",
                    "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
        worker_command = LOCUST + ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    started = time.time()
    log = (out / "locust.log").open("wb")
    try:
        master = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(master)
        for _ in range(workers):
            processes.append(
                subprocess.Popen(worker_command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        try:
            code = master.wait(timeout=profile.duration_s + GRACE_S)
        except subprocess.TimeoutExpired:
            raise GateError(f"locust did not finish within {profile.duration_s + GRACE_S} s") from None
    finally:
        for process in processes:  # also on an interrupt: nothing outlives the gate
            stop_process(process, timeout_s=15)
        log.close()
    if code != 0:
        tail = (out / "locust.log").read_text(errors="replace")[-1500:]
        raise GateError(f"locust exited {code}: {tail}")
    return Run(host=host, out=out, workers=workers, started=started, ended=time.time())


def evaluate(run: Run, profile: Profile, slo: ServiceLevelObjectives, *, environment: str) -> Verdict:
    """Judge the run's statistics, write gate.json and the latency chart.

    :raise GateError: Locust wrote no statistics.
    """
    try:
        stats = read_stats(run.out / FINAL_STATS)
    except StatsError as error:
        raise GateError(str(error)) from None
    aborted = (run.out / ABORT_MARKER).exists()
    verdict = judge(stats, profile, slo, aborted=aborted)
    chart = latency_chart(run.out / f"{PREFIX}_stats_history.csv", run.out / "latency.png", slo)
    document = {
        "version": 1,
        "gate": "load",
        "environment": environment,
        "host": run.host,
        "workers": run.workers,
        "window": {"start": run.started, "end": run.ended, "duration_s": round(run.ended - run.started, 1),
                   "run_time_s": profile.duration_s},
        "profile": profile.model_dump(mode="json"),
        "slo": slo.model_dump(mode="json"),
        **verdict.as_dict(),
        "endpoints": {name: asdict(row) for name, row in stats.items()},
        "reports": {"html": "locust.html", "stats_csv": f"{PREFIX}_stats.csv", "chart": chart.name if chart else None},
    }
    (run.out / "gate.json").write_text(json.dumps(document, indent=2, default=str))
    provenance.write(run.out / "gate.json")
    return verdict
