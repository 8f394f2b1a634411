"""Judge a Locust run against the SLO: per endpoint class p95/p99, the failure ratio, throughput, sample counts.

Locust has no thresholds of its own, and locust-plugins' checks look at averages after the run and exit 0 under
the failure ratio; this judges percentiles, and too little data is inconclusive, never a pass.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from load.profile import Profile
from policies.slo import ServiceLevelObjectives

Status = Literal["pass", "fail", "inconclusive"]
AGGREGATED = "Aggregated"


@dataclass(frozen=True)
class EndpointStats:
    name: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Metric:
    metric: str
    endpoint: str
    comparison: Literal["<=", ">="]
    threshold: float
    observed: float | None
    status: Status
    note: str = ""


@dataclass(frozen=True)
class Verdict:
    verdict: Status
    metrics: Sequence[Metric]
    total: EndpointStats
    aborted: bool = False
    reasons: Sequence[str] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "aborted": self.aborted,
            "reasons": list(self.reasons),
            "total": asdict(self.total),
            "metrics": [asdict(m) for m in self.metrics],
        }


class StatsError(ValueError):
    """The stats file is missing or not Locust's CSV; the run cannot be judged."""


def read_stats(path: Path) -> dict[str, EndpointStats]:
    """The run's final statistics (``final_stats.json``, written by the locustfile), by request name
    (``Aggregated`` is the total).

    :raise StatsError: the file is missing or not that document.
    """
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise StatsError(f"{path}: no stats; Locust did not finish a run") from None
    except json.JSONDecodeError as error:
        raise StatsError(f"{path}: not JSON ({error})") from None
    try:
        return {
            name: EndpointStats(
                name=name,
                requests=int(row["requests"]),
                failures=int(row["failures"]),
                rps=float(row["rps"]),
                p50_ms=_number(row["p50_ms"]),
                p95_ms=_number(row["p95_ms"]),
                p99_ms=_number(row["p99_ms"]),
            )
            for name, row in document.items()
        }
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise StatsError(f"{path}: not the gate's final statistics ({error!r})") from None


def _number(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def judge(
    stats: Mapping[str, EndpointStats], profile: Profile, slo: ServiceLevelObjectives, *, aborted: bool = False
) -> Verdict:
    total = stats.get(AGGREGATED) or EndpointStats(AGGREGATED, 0, 0, 0.0, *(float("nan"),) * 3)
    metrics: list[Metric] = []
    enough = total.requests >= slo.min_requests_per_window
    metrics.append(Metric(
        "requests", AGGREGATED, ">=", slo.min_requests_per_window, total.requests,
        "pass" if enough else "inconclusive",
        "" if enough else f"{total.requests} requests < {slo.min_requests_per_window} (SLO min_requests_per_window)",
    ))
    failure_percent = 100 * total.failures / total.requests if total.requests else None
    metrics.append(_at_most("failure_percent", AGGREGATED, slo.error_rate_5xx_percent, failure_percent))
    metrics.append(_at_least("rps", AGGREGATED, profile.min_rps, total.rps if total.requests else None))
    for endpoint, weight in profile.weights.items():
        if weight <= 0:
            continue
        row = stats.get(endpoint)
        count = row.requests if row else 0
        if count < profile.min_requests_per_endpoint:
            note = f"{count} requests < {profile.min_requests_per_endpoint} (profile min_requests_per_endpoint)"
            for name, threshold in (("p95_ms", slo.latency_p95_ms), ("p99_ms", slo.latency_p99_ms)):
                metrics.append(Metric(name, endpoint, "<=", threshold, None, "inconclusive", note))
            continue
        assert row is not None
        metrics.append(_at_most("p95_ms", endpoint, slo.latency_p95_ms, row.p95_ms))
        metrics.append(_at_most("p99_ms", endpoint, slo.latency_p99_ms, row.p99_ms))
    reasons = [f"{m.metric} {m.endpoint}: {m.note or f'{m.observed:g} vs {m.comparison} {m.threshold:g}'}"
               for m in metrics if m.status != "pass" and (m.note or m.observed is not None)]
    if aborted:
        reasons.insert(0, "aborted early: the failure ratio was breached")
    statuses = {m.status for m in metrics}
    too_few = total.requests < slo.min_requests_per_window
    # Too few requests judge nothing, not even a failure (an early abort is a judgement of its own).
    verdict: Status = (
        "fail" if aborted
        else "inconclusive" if too_few
        else "fail" if "fail" in statuses
        else "inconclusive" if "inconclusive" in statuses
        else "pass"
    )
    return Verdict(verdict=verdict, metrics=metrics, total=total, aborted=aborted, reasons=reasons)


def _at_most(metric: str, endpoint: str, threshold: float, observed: float | None) -> Metric:
    if observed is None or observed != observed:  # None or NaN: nothing measured
        return Metric(metric, endpoint, "<=", threshold, None, "inconclusive", "no data")
    return Metric(metric, endpoint, "<=", threshold, observed, "pass" if observed <= threshold else "fail")


def _at_least(metric: str, endpoint: str, threshold: float, observed: float | None) -> Metric:
    if observed is None:
        return Metric(metric, endpoint, ">=", threshold, None, "inconclusive", "no data")
    return Metric(metric, endpoint, ">=", threshold, observed, "pass" if observed >= threshold else "fail")
