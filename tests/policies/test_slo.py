from __future__ import annotations

from pathlib import Path

import pytest

from policies.slo import SloError, load_slo


def test_project_slo_file_has_a_complete_objective_set_per_environment():
    catalog = load_slo()
    prod, dev = catalog.for_env("prod"), catalog.for_env("dev")
    assert prod.latency_p99_ms < dev.latency_p99_ms
    assert prod.rto_minutes == 15 and prod.rpo_minutes == 5


def test_environment_overrides_only_what_it_names():
    catalog = load_slo()
    assert catalog.for_env("prod").latency_p95_ms == catalog.for_env("staging").latency_p95_ms


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "slo.yaml"
    path.write_text(text)
    return path


BASE = """
service: records
delivery: {deployment_frequency_per_week_min: 1, lead_time_hours_max: 24, change_failure_rate_percent_max: 15,
  time_to_restore_minutes_max: 15, pipeline_minutes_max: 10}
defaults: {availability_percent: 99.9, latency_p95_ms: 300, latency_p99_ms: 800, error_rate_5xx_percent: 1,
  unhealthy_hosts_max: 0, replica_lag_seconds: 60, rto_minutes: 15, rpo_minutes: 5,
  evaluation_window_minutes: 5, min_requests_per_window: 100, replica_lag_alarm_minutes: 2, backup_rpo_hours: 26, game_day_budget_share_percent: 5}
"""


def test_non_numeric_threshold_names_key_and_environment(tmp_path):
    path = _write(tmp_path, BASE + "environments: {prod: {latency_p99_ms: fast}}\n")
    with pytest.raises(SloError, match="slo.yaml: latency_p99_ms for 'prod' is 'fast'"):
        load_slo(path)


def test_missing_objective_is_an_error(tmp_path):
    path = _write(tmp_path, BASE.replace("rto_minutes: 15, ", ""))
    with pytest.raises(SloError, match="rto_minutes"):
        load_slo(path)


def test_unknown_objective_is_an_error(tmp_path):
    path = _write(tmp_path, BASE + "environments: {dev: {latency_p50: 3}}\n")
    with pytest.raises(SloError, match="latency_p50"):
        load_slo(path)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(SloError, match="not found"):
        load_slo(tmp_path / "none.yaml")
    with pytest.raises(SloError, match="not valid YAML"):
        load_slo(_write(tmp_path, "defaults: [\n"))
    with pytest.raises(SloError, match="mapping"):
        load_slo(_write(tmp_path, "- a\n"))
    with pytest.raises(SloError, match="defaults"):
        load_slo(_write(tmp_path, "service: x\n"))


def test_replica_lag_objective_above_the_rpo_is_an_error(tmp_path):
    path = _write(tmp_path, BASE + "environments: {prod: {replica_lag_seconds: 301}}\n")
    with pytest.raises(SloError, match="for .prod.: Value error, replica_lag_seconds 301 plus replica_lag_alarm_minutes 2 "
                                       "exceeds the RPO of 5 minutes"):
        load_slo(path)


def test_error_budget_is_what_availability_leaves():
    prod = load_slo().for_env("prod")
    assert prod.availability_percent == 99.95
    assert prod.error_budget_percent == pytest.approx(0.05)
    assert prod.error_budget_minutes_per_30_days == 21.6


def test_delivery_targets_are_required_and_checked(tmp_path):
    with pytest.raises(SloError, match="delivery"):
        load_slo(_write(tmp_path, BASE.replace("delivery:", "no_delivery:")))
    with pytest.raises(SloError, match="change_failure_rate_percent_max"):
        load_slo(_write(tmp_path, BASE.replace("change_failure_rate_percent_max: 15", "change_failure_rate_percent_max: 150")))
