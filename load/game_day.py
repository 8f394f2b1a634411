"""The game day's load and what it cost: the load gate's Locust user mix in a process of its own, each request
logged with its wall-clock start, and the error budget an event window spent.

The cost is counted in time, from policies/slo.yaml: each second of the event with a failed request, a p95 above
the latency objective, or no answer at all is a bad second, and the bad seconds are minutes of the 30-day error
budget. The failed requests are counted beside it. (A request-based budget, failures against the month's share at
the run's rate, was dropped: at any rate it allows about 130 seconds of total failure, longer than the event.)
"""

from __future__ import annotations

import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from load.gate import LOCUST, ROOT
from load.profile import Profile
from ops.gunicorn import stop_process
from policies.slo import ServiceLevelObjectives

PROFILE = "game-day"
REQUEST_LOG = "requests.csv"  # start (epoch s), response time (ms), failed (0/1), endpoint class


@dataclass(frozen=True)
class Request:
    started: float  # time.time() when it was sent
    latency_ms: float
    failed: bool


@dataclass(frozen=True)
class Cost:
    requests: int
    failed: int
    bad_seconds: int
    seconds: int
    budget_minutes: float  # the 30-day error budget
    share_percent: float  # bad minutes as a share of it


class LoadRun:
    """Locust headless against ``host`` with the game-day profile, for as long as the context is open (the
    profile's duration bounds it); stopped with SIGTERM on exit so Locust writes its final statistics."""

    def __init__(self, host: str, out: Path, profile: Profile) -> None:
        self.host, self.out, self.profile = host, out, profile
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.out / REQUEST_LOG

    def __enter__(self) -> Self:
        self.out.mkdir(parents=True, exist_ok=True)
        self.log.unlink(missing_ok=True)
        env = {**os.environ, "LOAD_PROFILE": PROFILE, "LOAD_OUT": str(self.out), "LOAD_REQUEST_LOG": str(self.log),
               "PYTHONPATH": str(ROOT)}
        command = [*LOCUST, "--headless", "--host", self.host, "--users", str(self.profile.users), "--spawn-rate",
                   str(self.profile.spawn_rate), "--run-time", f"{self.profile.duration_s}s", "--stop-timeout", "2",
                   "--exit-code-on-error", "0"]
        with (self.out / "locust.log").open("wb") as output:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.process:
            stop_process(self.process, timeout_s=15)

    def requests(self) -> list[Request]:
        """What the run has logged so far (a line being written is skipped)."""
        found: list[Request] = []
        if not self.log.exists():
            return found
        for line in self.log.read_text().splitlines():
            fields = line.split(",")
            if len(fields) == 4:
                found.append(Request(float(fields[0]), float(fields[1]), fields[2] == "1"))
        return found


def cost(requests: list[Request], start: float, end: float, slo: ServiceLevelObjectives) -> Cost:
    """What the window [start, end) (wall-clock seconds) spent of the error budget. A second with no request
    answered at all counts as bad: no data is never a good second."""
    seconds = max(1, math.ceil(end - start))
    buckets: list[list[Request]] = [[] for _ in range(seconds)]
    for request in requests:
        if start <= request.started < end:
            buckets[int(request.started - start)].append(request)
    bad = sum(1 for bucket in buckets if not bucket or any(r.failed for r in bucket)
              or p95([r.latency_ms for r in bucket]) > slo.latency_p95_ms)
    in_window = [r for bucket in buckets for r in bucket]
    budget_minutes = slo.error_budget_minutes_per_30_days
    return Cost(requests=len(in_window), failed=sum(r.failed for r in in_window), bad_seconds=bad, seconds=seconds,
                budget_minutes=budget_minutes, share_percent=round(100 * bad / 60 / budget_minutes, 3))


def p95(latencies: list[float]) -> float:
    """Nearest-rank percentile: for a second's few dozen samples an interpolating one would invent values."""
    ordered = sorted(latencies)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
