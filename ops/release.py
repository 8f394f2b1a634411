"""The lab's release controller, with ECS's canary semantics: put the build on the idle colour, shift a
share of traffic, bake, judge the SLO on what was observed, then promote or roll back, and write a decision
record. Too few requests in the bake window is inconclusive and rolls back: no data is never a pass."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ops.driver import Driver
from ops.traffic import Sample, Traffic
from policies.slo import ServiceLevelObjectives


@dataclass(frozen=True)
class Measurement:
    metric: str
    comparison: str
    threshold: float
    observed: float | None
    window_s: float
    samples: int
    verdict: str  # pass | fail | inconclusive


@dataclass(frozen=True)
class Decision:
    region: str
    version: str
    colour: str
    verdict: str  # promote | rollback
    reason: str
    started_at: str
    seconds: float
    steps: list[dict[str, object]] = field(default_factory=list)


def percentile(values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile (what CloudWatch's pNN reports for a window of requests)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def judge(samples: Sequence[Sample], slo: ServiceLevelObjectives, window_s: float,
          min_samples: int) -> list[Measurement]:
    """5xx (and unanswered) rate and p99 against the SLO file's thresholds."""
    count = len(samples)
    if count < min_samples:
        return [Measurement("requests", ">=", min_samples, count, window_s, count, "inconclusive")]
    # Anything but a 2xx failed the client: a WAF's 403 or a 404 from a broken route counts like a 5xx.
    errors = 100 * sum(1 for s in samples if s.failed) / count
    p99 = percentile([s.latency_ms for s in samples], 99)
    return [
        Measurement("requests", ">=", min_samples, count, window_s, count, "pass"),
        Measurement("error_rate_5xx_percent", "<=", slo.error_rate_5xx_percent, round(errors, 3), window_s, count,
                    "pass" if errors <= slo.error_rate_5xx_percent else "fail"),
        Measurement("latency_p99_ms", "<=", slo.latency_p99_ms, round(p99, 1), window_s, count,
                    "pass" if p99 <= slo.latency_p99_ms else "fail"),
    ]


def release(driver: Driver, region: str, version: str, *, slo: ServiceLevelObjectives, traffic: Traffic,
            steps: Sequence[int] = (10,), bake_s: float = 4.0, healthy: bool = True,
            records: Path | None = None) -> Decision:
    """Deploy ``version`` to ``region``'s idle colour and walk it through ``steps`` (percent), judging each bake.

    The traffic generator must be sending requests to the region while this runs.
    """
    started, clock = dt.datetime.now(dt.UTC), time.monotonic()
    colour = driver.deploy(region, version, healthy=healthy)
    walked: list[dict[str, object]] = []
    verdict, reason = "promote", "every step met the SLO"
    for percent in steps:
        driver.shift_traffic(region, percent)
        window_start = time.monotonic()
        time.sleep(bake_s)
        measurements = judge(traffic.since(window_start), slo, bake_s, slo.min_requests_per_window)
        walked.append({"percent": percent, "measurements": [asdict(m) for m in measurements]})
        failing = [m for m in measurements if m.verdict != "pass"]
        if failing:
            verdict = "rollback"
            reason = "; ".join(f"{m.metric} {m.observed} (threshold {m.comparison} {m.threshold}): {m.verdict}"
                               for m in failing)
            driver.rollback(region)
            break
    else:
        driver.promote(region)
    decision = Decision(region, version, colour, verdict, reason, started.isoformat(timespec="seconds"),
                        round(time.monotonic() - clock, 3), walked)
    if records is not None:
        records.mkdir(parents=True, exist_ok=True)
        name = f"{started:%Y%m%dT%H%M%S}-{region}-{version}.json"
        (records / name).write_text(json.dumps(asdict(decision), indent=1))
    return decision
