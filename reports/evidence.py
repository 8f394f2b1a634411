"""Collect every source, key the records, map them to controls: the one document every renderer reads."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from gates.assembly import GUARDS_FILE, resources
from gates.verdict import Verdict as GateVerdict
from policies.acknowledgments import Registry
from policies.attestations import Attestation
from policies.catalog import Catalog
from policies.nag_controls import NagRule
from reports.completeness import Completeness
from reports.controls import GAP, ControlResult, control_matrix
from reports.model import SCHEMA_VERSION, Collected, Record, Source, SourceRun, Status, Where, index, not_collected
from reports.sources import aspects, aws, cfnlint, checkov, delivery, drills, image, junit, load, nag, resilience, sbom


@dataclass(frozen=True, kw_only=True)
class Inputs:
    """Where each source's results are expected; the defaults are where the gates write them."""

    cdk_out: Path = Path("cdk.out")
    junit: Path = Path("tests/out/junit.xml")
    cucumber: Path = Path("features/out/cucumber.json")
    measurements: Path = Path("features/out/measurements.json")
    load_gate: Path = Path("load/out/gate.json")
    # Where CI's image job leaves them (its artifact "image"); no image is built on a machine without Docker.
    image_gate: Path = Path("image/image-gate.json")
    sbom: Path = Path("image/sbom.cdx.json")
    # python -m reports collect --target aws: a deployed environment read back (config, drift)
    aws: Path = Path("reports/collected/aws.json")
    kpis: Path = Path("reports/collected/kpis.json")  # python -m reports kpis


class AcknowledgmentUse(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    rules: tuple[str, ...]
    reason: str
    owner: str
    expires: str
    environments: tuple[str, ...]
    resources: tuple[str, ...]  # env/stack/logical id of every resource whose template records the entry
    # Environment -> nag findings the entry suppressed there, as the synth gate counted them (cdk.out/guards.json)
    findings: dict[str, int] = {}


class AttestationUse(BaseModel):
    """An attestation as the report shows it: what it covers, who attested, and whether it counts today."""

    model_config = ConfigDict(frozen=True)

    id: str
    state: str  # valid, expired or example (examples never count)
    controls: tuple[str, ...]
    statement: str
    attested_by: str
    attested_on: str
    expires: str
    artifact: str
    artifact_sha256: str


def attestation_uses(attestations: Sequence[Attestation], today: dt.date) -> list[AttestationUse]:
    return [
        AttestationUse(
            id=a.id, state="example" if not a.counts else ("valid" if a.valid_on(today) else "expired"),
            controls=a.controls, statement=a.statement, attested_by=f"{a.attested_by.role}: {a.attested_by.name}",
            attested_on=a.attested_on.isoformat(), expires=a.expires.isoformat(), artifact=a.artifact.path,
            artifact_sha256=a.artifact.sha256,
        )
        for a in attestations
    ]


class Evidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: str = SCHEMA_VERSION
    generated_at: str
    commit: str
    tools: dict[str, str]
    sources: tuple[SourceRun, ...]
    controls: tuple[ControlResult, ...]
    acknowledgments: tuple[AcknowledgmentUse, ...]
    attestations: tuple[AttestationUse, ...] = ()
    completeness: Completeness | None = None  # None: no cloud assembly to count
    records: tuple[Record, ...]

    def collected(self) -> dict[str, bool]:
        return {run.source.value: run.collected for run in self.sources}

    def status_counts(self) -> Counter[str]:
        return Counter(record.status.value for record in self.records)

    def by_source(self) -> dict[str, Counter[str]]:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for record in self.records:
            counts[record.source.value][record.status.value] += 1
        return dict(counts)

    def by_place(self) -> dict[tuple[str, str], Counter[str]]:
        """(env, region) -> status counts, for the records that have a place in the infrastructure."""
        counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for record in self.records:
            if record.where.env:
                counts[(record.where.env, record.where.region or "all")][record.status.value] += 1
        return dict(sorted(counts.items()))

    def control_counts(self) -> dict[str, Counter[str]]:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for control in self.controls:
            counts[control.framework][control.status] += 1
        return dict(counts)

    def gaps(self) -> list[ControlResult]:
        return [control for control in self.controls if control.status == GAP]

    def findings(self, status: Status) -> list[Record]:
        return [record for record in self.records if record.status is status]


STATES = {verdict.value: verdict.name for verdict in GateVerdict}


@dataclass(frozen=True)
class Verdict:
    """The gate's reading of the evidence: any failed record fails; a required source that was not collected,
    or returned inconclusive records, leaves it inconclusive; only then is it a pass."""

    code: int
    required: list[str]
    failed: int
    missing: list[str]
    inconclusive: int
    stale: list[str] = field(default_factory=list)  # required sources a release may not use

    @property
    def state(self) -> str:
        return STATES[self.code]

    def text(self) -> str:
        if self.code == 1:
            stale = f"; stale required sources {self.stale}" if self.stale else ""
            return f"FAIL: {self.failed} failed records{stale}"
        if self.code == 2:
            return (f"INCONCLUSIVE: required sources not collected {self.missing}, "
                    f"{self.inconclusive} inconclusive records")
        return "PASS: no failed record, every required source collected and conclusive"


def judge(evidence: Evidence, required: Sequence[str]) -> Verdict:
    failed = evidence.status_counts().get(Status.FAIL.value, 0)
    collected = evidence.collected()
    missing = [source for source in required if not collected.get(source)]
    inconclusive = sum(1 for r in evidence.records if r.status is Status.INCONCLUSIVE and r.source.value in required)
    stale = [run.source.value for run in evidence.sources if run.stale and run.source.value in required]
    code = 1 if failed or stale else (2 if missing or inconclusive else 0)
    return Verdict(code=code, required=list(required), failed=failed, missing=missing, inconclusive=inconclusive,
                   stale=stale)


def _template_acknowledgments(cdk_out: Path) -> dict[str, list[str]]:
    """Entry id -> resources whose template metadata records it (written by aspects/nag.py)."""
    found: dict[str, list[str]] = defaultdict(list)
    for resource in resources(cdk_out):
        for entry in (resource.body.get("Metadata") or {}).get("acknowledgments", []):
            found[entry["id"]].append(resource.construct_path or f"{resource.template.name}:{resource.logical_id}")
    return found


def _suppressed_per_entry(cdk_out: Path) -> Mapping[str, dict[str, int]]:
    try:
        counted = json.loads((cdk_out / GUARDS_FILE).read_text()).get("acknowledged", {})
    except (OSError, ValueError, AttributeError):
        return {}  # no synth record: the entries show no counts, and the nag source is not collected
    return counted if isinstance(counted, dict) else {}


def acknowledgment_uses(registry: Registry, cdk_out: Path) -> list[AcknowledgmentUse]:
    applied = _template_acknowledgments(cdk_out)
    counted = _suppressed_per_entry(cdk_out)
    return [
        AcknowledgmentUse(id=e.id, rules=e.rules, reason=e.reason, owner=e.owner, expires=e.expires.isoformat(),
                          environments=e.environments, resources=tuple(sorted(applied.get(e.id, []))),
                          findings=dict(counted.get(e.id, {})))
        for e in registry.entries
    ]


def _guarded(source: Source, collect: Callable[[], Collected]) -> Collected:
    """A result file that is not what its gate writes is reported, not a traceback: the source is not collected."""
    try:
        return collect()
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        return not_collected(source, f"unreadable input ({type(error).__name__}: {error})")


def collect_all(inputs: Inputs, pack_rules: Mapping[str, Mapping[str, NagRule]]) -> list[Collected]:
    collectors: list[tuple[Source, Callable[[], Collected]]] = [
        (Source.NAG, lambda: nag.collect(inputs.cdk_out, pack_rules)),
        (Source.ASPECT, lambda: aspects.collect(inputs.cdk_out)),
        (Source.CHECKOV, lambda: checkov.collect(inputs.cdk_out)),
        (Source.CFN_LINT, lambda: cfnlint.collect(inputs.cdk_out)),
        (Source.RESILIENCE, lambda: resilience.collect(inputs.cdk_out)),
        (Source.UNIT, lambda: junit.collect(inputs.junit)),
        (Source.DRILL, lambda: drills.collect(inputs.cucumber, inputs.measurements)),
        (Source.LOAD, lambda: load.collect(inputs.load_gate)),
        (Source.IMAGE, lambda: image.collect(inputs.image_gate)),
        (Source.SBOM, lambda: sbom.collect(inputs.sbom)),
        (Source.DELIVERY, lambda: delivery.collect(inputs.kpis)),
    ]
    found = {source: _guarded(source, collect) for source, collect in collectors}
    found[Source.SBOM] = sbom.same_image(found[Source.SBOM], found[Source.IMAGE])
    deployed = functools.cache(lambda: aws.collect(inputs.aws))  # one document, two sources: read once
    found[Source.CONFIG] = _guarded(Source.CONFIG, lambda: deployed()[0])
    found[Source.DRIFT] = _guarded(Source.DRIFT, lambda: deployed()[1])
    return list(found.values())


SYNTH_GATE_RULE = "synth-gate"


def synth_failure(guards: Collected) -> Collected:
    """The guards' source with the synth gate's own failure added: whatever the records show, the templates did
    not pass synth (an unused acknowledgment, a count that differs...), so no bundle of them may pass."""
    record = Record(source=Source.ASPECT, rule=SYNTH_GATE_RULE, status=Status.FAIL,
                    where=Where(resource="all templates"),
                    title="synth failed on these templates (cdk.out/custody.json); its findings are the synth "
                          "gate's lines and cdk.out/validation-report.json")
    run = guards.run if guards.run.collected else guards.run.model_copy(update={"collected": True, "note": ""})
    return guards.model_copy(update={"run": run, "records": (*guards.records, record)})


def build(
    collected: Sequence[Collected],
    catalogs: Mapping[str, Catalog],
    registry: Registry,
    *,
    cdk_out: Path,
    commit: str,
    tools: Mapping[str, str],
    now: dt.datetime,
    attestations: Sequence[Attestation] = (),
    population: Completeness | None = None,
) -> Evidence:
    """:raise DuplicateRecord: two sources produced the same record key."""
    records = [record for part in collected for record in part.records]
    index(records)
    runs = tuple(part.run for part in collected)
    # A source a release may not use (stale) backs no control: its references show it as not collected.
    collected_flags = {run.source.value: run.collected and not run.stale for run in runs}
    for source in Source:
        collected_flags.setdefault(source.value, False)
    return Evidence(
        generated_at=now.isoformat(timespec="seconds"),
        commit=commit,
        tools=dict(tools),
        sources=runs,
        controls=tuple(control_matrix(catalogs, records, collected_flags, attestations, now.date())),
        acknowledgments=tuple(acknowledgment_uses(registry, cdk_out)),
        attestations=tuple(attestation_uses(attestations, now.date())),
        completeness=population,
        records=tuple(sorted(records, key=lambda r: r.key)),
    )


def to_json(evidence: Evidence) -> dict[str, Any]:
    return evidence.model_dump(mode="json")
