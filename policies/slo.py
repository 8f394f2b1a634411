"""Typed loader for ``policies/slo.yaml``, the single source of every service-level threshold."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from policies.files import read_yaml

SLO_FILE = Path(__file__).with_name("slo.yaml")


class SloError(ValueError):
    """slo.yaml is missing or malformed; the message names the key and the expected value."""


class ServiceLevelObjectives(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    availability_percent: float = Field(gt=0, le=100)
    latency_p95_ms: float = Field(gt=0)
    latency_p99_ms: float = Field(gt=0)
    error_rate_5xx_percent: float = Field(ge=0, le=100)
    unhealthy_hosts_max: int = Field(ge=0)
    replica_lag_seconds: float = Field(gt=0)
    # Minutes of lag above the objective before its alarm fires: the lag plus this must stay within the RPO, or a
    # stalled replica loses more than the RPO before anyone knows (python -m gates.resilience).
    replica_lag_alarm_minutes: int = Field(ge=1)
    rto_minutes: float = Field(gt=0)
    rpo_minutes: float = Field(ge=0)
    evaluation_window_minutes: int = Field(ge=1)
    min_requests_per_window: int = Field(ge=1)
    # The loss when the replica cannot be used either: the newest backup copy in the secondary region.
    backup_rpo_hours: float = Field(gt=0)
    # The share of the 30-day error budget one game-day failover under load may spend (features/game_day.feature).
    game_day_budget_share_percent: float = Field(gt=0, le=100)

    @model_validator(mode="after")
    def _lag_within_rpo(self) -> ServiceLevelObjectives:
        # Failover loses what the replica has not received yet; a lag objective above the RPO could not hold it.
        if self.replica_lag_seconds + self.replica_lag_alarm_minutes * 60 > self.rpo_minutes * 60:
            raise ValueError(
                f"replica_lag_seconds {self.replica_lag_seconds:g} plus replica_lag_alarm_minutes "
                f"{self.replica_lag_alarm_minutes} exceeds the RPO of {self.rpo_minutes:g} minutes"
            )
        return self

    @property
    def error_budget_percent(self) -> float:
        """The share of requests that may fail: what availability leaves."""
        return round(100 - self.availability_percent, 6)

    @property
    def error_budget_minutes_per_30_days(self) -> float:
        return round(30 * 24 * 60 * self.error_budget_percent / 100, 1)


class DeliveryTargets(BaseModel):
    """Production's delivery targets (DORA's four keys and the pipeline's duration)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    deployment_frequency_per_week_min: float = Field(gt=0)
    lead_time_hours_max: float = Field(gt=0)
    change_failure_rate_percent_max: float = Field(ge=0, le=100)
    time_to_restore_minutes_max: float = Field(gt=0)
    pipeline_minutes_max: float = Field(gt=0)


class SloCatalog(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: str
    defaults: Mapping[str, Any]
    environments: Mapping[str, Mapping[str, Any]] = {}
    delivery: DeliveryTargets

    def for_env(self, env: str) -> ServiceLevelObjectives:
        """The objectives for one environment: defaults overlaid with its overrides.

        :raise SloError: a value is missing or not a number in range.
        """
        merged = {**self.defaults, **self.environments.get(env, {})}
        try:
            return ServiceLevelObjectives.model_validate(merged)
        except ValidationError as error:
            first = error.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            if not key:  # a rule across fields: the message names them
                raise SloError(f"slo.yaml: for '{env}': {first['msg']}") from None
            raise SloError(
                f"slo.yaml: {key} for '{env}' is {first.get('input')!r}; {first['msg']}"
            ) from None


def load_slo(path: Path = SLO_FILE) -> SloCatalog:
    """Read slo.yaml and validate every environment it names.

    :raise SloError: the file is missing, not YAML, or a value is malformed.
    """
    document = read_yaml(path, SloError)
    if not isinstance(document, Mapping):
        raise SloError(f"{path}: expected a mapping at the top level")
    try:
        catalog = SloCatalog.model_validate(document)
    except ValidationError as error:
        raise SloError(f"{path}: {error.errors()[0]['loc']}: {error.errors()[0]['msg']}") from None
    for env in catalog.environments:
        catalog.for_env(env)
    catalog.for_env("__defaults__")
    return catalog
