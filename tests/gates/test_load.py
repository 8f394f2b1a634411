"""The judge alone: percentiles, failure ratio, throughput, sample floors; and bad input."""

from __future__ import annotations

import json
import math

import pytest

from gates.load import AGGREGATED, EndpointStats, StatsError, judge, read_stats
from load.profile import ProfileError, load_profile
from policies.slo import load_slo

SLO = load_slo().for_env("dev")
PROFILE = load_profile("local")


def _stats(**endpoints: tuple[int, int, float, float]) -> dict[str, EndpointStats]:
    rows = {name: EndpointStats(name, n, f, 10.0, 5.0, p95, p99) for name, (n, f, p95, p99) in endpoints.items()}
    total_n = sum(r.requests for r in rows.values())
    rows[AGGREGATED] = EndpointStats(AGGREGATED, total_n, sum(r.failures for r in rows.values()), 40.0, 5.0,
                                     max(r.p95_ms for r in rows.values()), max(r.p99_ms for r in rows.values()))
    return rows


HEALTHY = {"read": (300, 0, 20, 40), "list": (100, 0, 20, 40), "write": (50, 0, 50, 90), "health": (50, 0, 5, 9)}


def _healthy(**changes: tuple[int, int, float, float]) -> dict[str, EndpointStats]:
    return _stats(**(HEALTHY | changes))


def test_healthy_numbers_pass():
    assert judge(_healthy(), PROFILE, SLO).verdict == "pass"


def test_a_slow_endpoint_fails_on_its_percentile():
    stats = _healthy(write=(50, 0, SLO.latency_p95_ms + 1, 90))
    verdict = judge(stats, PROFILE, SLO)
    assert verdict.verdict == "fail"
    assert [(m.metric, m.endpoint) for m in verdict.metrics if m.status == "fail"] == [("p95_ms", "write")]


def test_failures_above_the_slo_fail():
    stats = _healthy()
    total = stats[AGGREGATED]
    stats[AGGREGATED] = EndpointStats(AGGREGATED, total.requests, 30, total.rps, 5, 20, 90)
    verdict = judge(stats, PROFILE, SLO)
    (failure,) = [m for m in verdict.metrics if m.metric == "failure_percent"]
    assert failure.status == "fail" and failure.observed == pytest.approx(100 * 30 / total.requests)


def test_too_little_throughput_fails():
    stats = _healthy()
    total = stats[AGGREGATED]
    stats[AGGREGATED] = EndpointStats(AGGREGATED, total.requests, 0, PROFILE.min_rps - 1, 5, 20, 90)
    assert judge(stats, PROFILE, SLO).verdict == "fail"


def test_no_data_is_inconclusive_never_a_pass():
    verdict = judge({}, PROFILE, SLO)
    assert verdict.verdict == "inconclusive"
    assert verdict.total.requests == 0
    assert {m.status for m in verdict.metrics} == {"inconclusive"}


def test_an_endpoint_under_its_sample_floor_is_inconclusive():
    stats = _healthy(write=(PROFILE.min_requests_per_endpoint - 1, 0, 10, 10))
    verdict = judge(stats, PROFILE, SLO)
    assert verdict.verdict == "inconclusive"
    assert {m.endpoint for m in verdict.metrics if m.status == "inconclusive"} == {"write"}


def test_missing_percentiles_are_inconclusive():
    stats = _healthy(read=(300, 0, math.nan, math.nan))
    assert judge(stats, PROFILE, SLO).verdict == "inconclusive"


def test_below_the_sample_floor_even_failures_are_inconclusive():
    stats = _stats(read=(SLO.min_requests_per_window - 1, SLO.min_requests_per_window - 1, 20, 40))
    verdict = judge(stats, PROFILE, SLO)
    assert verdict.verdict == "inconclusive"
    assert any(m.metric == "failure_percent" and m.status == "fail" for m in verdict.metrics)  # still reported


def test_an_aborted_run_fails_whatever_the_numbers():
    verdict = judge(_healthy(), PROFILE, SLO, aborted=True)
    assert verdict.verdict == "fail" and verdict.reasons[0].startswith("aborted early")


def test_stats_files_that_are_missing_or_foreign_are_errors(tmp_path):
    with pytest.raises(StatsError, match="no stats"):
        read_stats(tmp_path / "none.json")
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"read": {"count": 3}}')
    with pytest.raises(StatsError, match="not the gate's final statistics"):
        read_stats(foreign)
    foreign.write_text("a,b")
    with pytest.raises(StatsError, match="not JSON"):
        read_stats(foreign)


def test_each_percentile_is_judged_from_its_own_figure(tmp_path):
    """p50 well under, p95 at the objective exactly (passes), p99 just over (fails): a judge that read the wrong
    figure, or compared with < instead of <=, would decide differently."""
    row = {"requests": 200, "failures": 0, "rps": 40.0, "p50_ms": 5,
           "p95_ms": SLO.latency_p95_ms, "p99_ms": SLO.latency_p99_ms + 1}
    document = {name: row for name in ("read", "list", "write", "health")}
    document["Aggregated"] = row | {"requests": 800}
    path = tmp_path / "final_stats.json"
    path.write_text(json.dumps(document))
    stats = read_stats(path)
    assert (stats["read"].p50_ms, stats["read"].p95_ms, stats["read"].p99_ms) == (
        5, SLO.latency_p95_ms, SLO.latency_p99_ms + 1)
    verdict = judge(stats, PROFILE, SLO)
    by_metric = {(m.metric, m.endpoint): m.status for m in verdict.metrics}
    assert by_metric[("p95_ms", "read")] == "pass"
    assert by_metric[("p99_ms", "read")] == "fail"
    assert verdict.verdict == "fail"


def test_every_metric_is_reported_even_when_it_passes():
    metrics = {(m.metric, m.endpoint) for m in judge(_healthy(), PROFILE, SLO).metrics}
    assert {("requests", "Aggregated"), ("failure_percent", "Aggregated"), ("rps", "Aggregated")} <= metrics


@pytest.mark.parametrize(
    "text, message",
    [
        ("environment: dev\nusers: 0\n", "users"),
        ("environment: dev\nusers: [\n", "not valid YAML"),
    ],
)
def test_bad_profiles_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=message):
        load_profile(str(path))


def test_profile_weights_and_waits_are_checked(tmp_path):
    base = PROFILE.model_dump()
    with pytest.raises(ValueError, match="weights must name"):
        type(PROFILE).model_validate(base | {"weights": {"browse": 1}})
    with pytest.raises(ValueError, match="wait_max_s is below"):
        type(PROFILE).model_validate(base | {"wait_min_s": 2, "wait_max_s": 1})
    with pytest.raises(ProfileError, match="not found; profiles: \\['dev', 'game-day', 'local', 'staging'\\]"):
        load_profile("nope")


def test_gate_cli_is_inconclusive_on_a_bad_profile(capsys):
    from load.__main__ import main

    assert main(["--profile", "nope"]) == 2
    assert "load-gate: INCONCLUSIVE" in capsys.readouterr().err
