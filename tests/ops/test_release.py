"""The release controller's judgement and choreography, with a recording driver and canned traffic."""

from __future__ import annotations

import json

import pytest

from ops.release import judge, percentile, release
from ops.traffic import Sample
from policies.slo import load_slo

SLO = load_slo().for_env("dev")


def _samples(count: int, *, errors: int = 0, latency_ms: float = 20.0) -> list[Sample]:
    return [Sample(float(i), 500 if i < errors else 200, latency_ms) for i in range(count)]


def test_percentile_is_nearest_rank():
    assert percentile(list(range(1, 101)), 99) == 99
    assert percentile([5.0], 99) == 5.0


def test_too_few_requests_are_inconclusive_never_a_pass():
    (only,) = judge(_samples(SLO.min_requests_per_window - 1), SLO, 4.0, SLO.min_requests_per_window)
    assert only.verdict == "inconclusive" and only.observed == SLO.min_requests_per_window - 1


@pytest.mark.parametrize("samples, failing", [
    (_samples(200), []),
    (_samples(200, errors=3), ["error_rate_5xx_percent"]),  # 1.5 % > 1 %
    (_samples(200, latency_ms=SLO.latency_p99_ms + 1), ["latency_p99_ms"]),
])
def test_the_slo_file_decides(samples, failing):
    measurements = judge(samples, SLO, 4.0, 100)
    assert [m.metric for m in measurements if m.verdict == "fail"] == failing


class RecordingDriver:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def deploy(self, region: str, version: str, *, healthy: bool = True) -> str:
        self.calls.append(("deploy", region, version))
        return "green"

    def shift_traffic(self, region: str, percent: int) -> None:
        self.calls.append(("shift", region, str(percent)))

    def promote(self, region: str) -> None:
        self.calls.append(("promote", region))

    def rollback(self, region: str) -> None:
        self.calls.append(("rollback", region))


class CannedTraffic:
    def __init__(self, samples: list[Sample]) -> None:
        self.samples = samples

    def since(self, start: float, end: float | None = None) -> list[Sample]:
        return self.samples


def test_a_good_build_walks_every_step_and_is_promoted(tmp_path):
    driver = RecordingDriver()
    decision = release(driver, "us-east-1", "v2", slo=SLO, traffic=CannedTraffic(_samples(150)),  # type: ignore[arg-type]
                       steps=(10, 50), bake_s=0, records=tmp_path)
    assert decision.verdict == "promote"
    assert driver.calls == [("deploy", "us-east-1", "v2"), ("shift", "us-east-1", "10"),
                            ("shift", "us-east-1", "50"), ("promote", "us-east-1")]
    (written,) = tmp_path.iterdir()
    assert json.loads(written.read_text())["steps"][1]["percent"] == 50


@pytest.mark.parametrize("samples, reason", [
    (_samples(150, errors=10), "error_rate_5xx_percent"),
    (_samples(10), "requests 10 (threshold >= 100): inconclusive"),
])
def test_a_failing_or_unjudged_step_rolls_back_at_once(samples, reason):
    driver = RecordingDriver()
    decision = release(driver, "us-east-1", "v2", slo=SLO, traffic=CannedTraffic(samples),  # type: ignore[arg-type]
                       steps=(10, 100), bake_s=0)
    assert decision.verdict == "rollback" and reason in decision.reason
    assert driver.calls[-1] == ("rollback", "us-east-1") and ("shift", "us-east-1", "100") not in driver.calls
