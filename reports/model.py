"""One record per (source, rule, env, region, stack, resource): the unit every renderer and the control
matrix work on. The key includes the region, so the same logical id in two regions stays two records."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.8.0"  # 1.1 n/a refs, 1.2 per-entry counts, 1.3 assessments, 1.4 completeness, 1.5 provenance,
# 1.6 image and sbom sources, relied-on controls only an attestation covers, 1.7 the resilience source,
# 1.8 the config and drift sources (a deployed environment read back), the delivery source (KPIs)


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ACKNOWLEDGED = "acknowledged"
    INCONCLUSIVE = "inconclusive"
    NOT_COLLECTED = "not-collected"
    # Only for control references: a nag rule whose service has no resource in any synthesized environment.
    NOT_APPLICABLE = "not-applicable"


class Source(StrEnum):
    NAG = "nag"
    ASPECT = "aspect"
    CHECKOV = "checkov"
    CFN_LINT = "cfn-lint"
    RESILIENCE = "resilience"  # the RTO/RPO budget of a region loss (gates.resilience)
    UNIT = "unit"
    DRILL = "drill"
    LOAD = "load"
    IMAGE = "image"  # the image gate's vulnerability verdict
    SBOM = "sbom"  # the image's CycloneDX inventory
    CONFIG = "config"  # AWS Config on a deployed environment: recorder, conformance packs, own rules
    DRIFT = "drift"  # CloudFormation drift of a deployed environment's stacks
    DELIVERY = "delivery"  # delivery KPIs from the deploy workflow's records (python -m reports kpis)


class Where(BaseModel):
    model_config = ConfigDict(frozen=True)

    env: str = ""
    region: str = ""
    stack: str = ""
    resource: str = ""  # logical id, construct path, test id, scenario or endpoint

    def label(self) -> str:
        return " / ".join(part for part in (self.env, self.region, self.stack, self.resource) if part) or "-"


class Record(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: Source
    rule: str
    where: Where = Where()
    status: Status
    title: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        w = self.where
        return (self.source.value, self.rule, w.env, w.region, w.stack, w.resource)


class SourceRun(BaseModel):
    """Whether a source's results were found; a source that did not run yields no records and says so."""

    model_config = ConfigDict(frozen=True)

    source: Source
    collected: bool
    inputs: tuple[Path, ...] = ()
    note: str = ""
    commit: str = ""  # the commit its input came from ("" when unknown)
    produced_at: str = ""
    stale: str = ""  # a release bundle: why this input may not be used ("" when it may)


class Collected(BaseModel):
    model_config = ConfigDict(frozen=True)

    run: SourceRun
    records: tuple[Record, ...] = ()


def not_collected(source: Source, note: str, inputs: tuple[Path, ...] = ()) -> Collected:
    return Collected(run=SourceRun(source=source, collected=False, inputs=inputs, note=note))


class DuplicateRecord(ValueError):
    """Two results claimed the same key; merging them would hide one."""


def index(records: list[Record]) -> dict[tuple[str, ...], Record]:
    """:raise DuplicateRecord: two records share a key (source, rule, env, region, stack, resource)."""
    found: dict[tuple[str, ...], Record] = {}
    for record in records:
        if record.key in found:
            raise DuplicateRecord(f"two results for {record.key}: {found[record.key].status} and {record.status}")
        found[record.key] = record
    return found
