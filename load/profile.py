"""Load profiles (``load/profiles/<name>.yaml``): who the virtual users are and how long the run lasts.

The thresholds are not here: they come from policies/slo.yaml for the environment the profile names.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PROFILES = Path(__file__).resolve().parent / "profiles"
# Written by the locustfile's early-abort watcher into the output folder; read by the gate.
ABORT_MARKER = "aborted.json"
FINAL_STATS = "final_stats.json"  # written by the locustfile on the master when the run ends
ENDPOINT_CLASSES = ("read", "list", "write", "health")


class ProfileError(ValueError):
    """A profile is missing or malformed; the message names the file and key."""


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    environment: str  # whose SLO judges the run
    host: str | None = None  # None: the gate starts the local service
    users: int = Field(ge=1, le=1000)
    spawn_rate: float = Field(gt=0)
    duration_s: int = Field(ge=1, le=3600)
    wait_min_s: float = Field(ge=0)
    wait_max_s: float = Field(ge=0)
    weights: Mapping[str, int]  # endpoint class -> task weight
    min_rps: float = Field(ge=0)  # below this the service did not keep up: fail
    min_requests_per_endpoint: int = Field(ge=1)  # fewer: that class is inconclusive
    # Early abort: after this many requests, a failure ratio above abort_failure_percent stops the run.
    abort_after_requests: int = Field(ge=1)
    abort_failure_percent: float = Field(gt=0, le=100)

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        unknown = sorted(set(self.weights) - set(ENDPOINT_CLASSES))
        if unknown or not any(self.weights.values()):
            raise ValueError(f"weights must name some of {list(ENDPOINT_CLASSES)} with a positive weight: {unknown}")
        if self.wait_max_s < self.wait_min_s:
            raise ValueError("wait_max_s is below wait_min_s")
        return self


def load_profile(name_or_path: str) -> Profile:
    """``name_or_path``: a profile name under load/profiles, or a path to a YAML file.

    :raise ProfileError: missing file, bad YAML, or a malformed value.
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILES / f"{name_or_path}.yaml"
    try:
        document = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        known = sorted(p.stem for p in PROFILES.glob("*.yaml"))
        raise ProfileError(f"{path}: not found; profiles: {known}") from None
    except yaml.YAMLError as error:
        raise ProfileError(f"{path}: not valid YAML: {error}") from None
    try:
        return Profile.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(profile)"
        raise ProfileError(f"{path}: {where}: {first['msg']}") from None
