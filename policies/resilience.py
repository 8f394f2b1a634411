"""Typed loader for ``policies/resilience.yaml``: the durations of the RTO/RPO budget that no template states,
each with its reason and source, and the runbooks whose manual steps a region loss takes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from policies.files import read_yaml

RESILIENCE_FILE = Path(__file__).with_name("resilience.yaml")
# What python -m gates.resilience and the lab's model look up: a file without one of them cannot be judged.
REQUIRED_ESTIMATES = (
    "alias_ttl_seconds", "checker_spread_intervals", "cloudfront_connection_timeout_seconds",
    "cloudfront_connection_attempts", "alarm_evaluation_delay_seconds", "replica_promotion_seconds",
    "fargate_task_start_seconds", "scaling_cooldown_seconds", "point_in_time_log_seconds", "backup_copy_seconds",
)


class ResilienceError(ValueError):
    """resilience.yaml is missing or malformed; the message names the key."""


class Estimate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seconds: float = Field(ge=0)
    why: str = Field(min_length=20)
    source: str = Field(min_length=5)  # a URL or a repository path: a figure nobody can trace is not accepted


class LabEstimates(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    promotion_seconds: Estimate


class ResilienceEstimates(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    estimates: Mapping[str, Estimate]
    region_loss_runbooks: tuple[str, ...] = Field(min_length=1)
    lab: LabEstimates

    def seconds(self, name: str) -> float:
        return self.estimates[name].seconds


def load_resilience(path: Path = RESILIENCE_FILE) -> ResilienceEstimates:
    """:raise ResilienceError: the file is missing, malformed, or lacks an estimate the budget needs."""
    document = read_yaml(path, ResilienceError)
    try:
        loaded = ResilienceEstimates.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        raise ResilienceError(f"{path}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    missing = [name for name in REQUIRED_ESTIMATES if name not in loaded.estimates]
    if missing:
        raise ResilienceError(f"{path}: estimates lack {', '.join(missing)}")
    return loaded
