"""The control catalogs (``policies/controls/*.yaml``): each control, its title, and what evidences it.

A control's ``nag`` rules and the exact ids cdk-nag cites for it (``cited_as``) are derived from the installed
cdk-nag (``policies/nag_controls.py``); titles and the other evidence sources (``checkov:``, ``aspect:``,
``drill:``, ``load:``, ``unit:``) are maintained by hand. A control with no source at all is a gap.

    python -m policies.catalog            exit 0 when the catalogs match cdk-nag; 1 when they drifted
    python -m policies.catalog --write    rewrite the derived fields, keeping titles and hand-kept evidence
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from policies.files import read_yaml
from policies.nag_controls import cdk_nag_version, rule_controls

CONTROLS_DIR = Path(__file__).with_name("controls")
# The catalogs cdk-nag cites controls of: their nag rules are derived (python -m policies.catalog).
NAG_CATALOG_FILES = {
    "HIPAA.Security": CONTROLS_DIR / "hipaa-security.yaml",
    "NIST.800.53.R5": CONTROLS_DIR / "nist-800-53-r5.yaml",
}
SOC2 = "SOC2"
CROSSWALK_PACK = "NIST.800.53.R5"  # what SOC 2 criteria rely on
# In this order: a SOC 2 criterion reads the NIST controls it relies on, so NIST comes first.
CATALOG_FILES = {**NAG_CATALOG_FILES, SOC2: CONTROLS_DIR / "soc2-tsc.yaml"}
EVIDENCE_SOURCES = ("checkov", "aspect", "cfn-lint", "resilience", "unit", "drill", "load", "image", "sbom", "config",
                    "drift", "delivery")
_NIST_BASE = re.compile(r"^[A-Z]{2}-\d+")
_HEADER = """\
# {framework} control catalog. Titles and `evidence` are kept by hand; `nag` and `cited_as` are derived
# from the installed cdk-nag by `python -m policies.catalog --write` (a test fails when they drift).
# Evidence references are <source>:<rule>, where source is one of {sources}; a reference
# also matches the rules below it (`drill:failover` covers every scenario of failover.feature).
# A control with no nag rule and no evidence is listed as a gap in the report.
"""


class CatalogError(ValueError):
    """A catalog file is missing or malformed; the message names the file and the control."""


Assessment = Literal["automated", "hybrid", "procedural"]
DEFAULT_MAX_EVIDENCE_AGE_DAYS = 365
# NIST 800-53 families whose controls are, at their core, what people do (training, personnel, planning, program
# management, incident response, assessment, maintenance, media, physical, privacy, supply chain): no scan of a
# template can prove them. Contingency planning, acquisition and risk assessment pair technical evidence (drills,
# scans) with a procedure.
_NIST_PROCEDURAL = frozenset({"AT", "PS", "PL", "PM", "IR", "CA", "MA", "MP", "PE", "PT", "SR"})
_NIST_HYBRID = frozenset({"CP", "SA", "RA"})


_SOC2_HYBRID = ("CC6", "CC7", "CC8", "A1", "C1")


def default_assessment(pack: str, control_id: str) -> Assessment:
    """How a control can be assessed, from its framework's structure: HIPAA's technical safeguards (164.312) are
    automated, its administrative ones (164.308) pair automated evidence with a procedure, its physical ones
    (164.310, AWS's side of the shared responsibility) are attested; NIST by family; SOC 2's control environment,
    communication, risk, monitoring and control activities (CC1-CC5, CC9) are what people do, access, operations,
    change, availability and confidentiality (CC6-CC8, A1, C1) pair systems with a procedure."""
    if pack == SOC2:
        return "hybrid" if control_id.startswith(_SOC2_HYBRID) else "procedural"
    if pack.startswith("HIPAA"):
        if control_id.startswith("164.312"):
            return "automated"
        return "hybrid" if control_id.startswith("164.308") else "procedural"
    family = control_id.split("-", 1)[0]
    if family in _NIST_PROCEDURAL:
        return "procedural"
    return "hybrid" if family in _NIST_HYBRID else "automated"


class Control(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=2)
    title: str = Field(min_length=3)
    # An override of the framework's default (default_assessment), with the reason for it.
    assessment: Assessment | None = None
    assessment_reason: str | None = Field(default=None, min_length=20)
    # How old a person's attestation may be before it is stale (training yearly, access reviews quarterly...).
    max_evidence_age_days: int = Field(default=DEFAULT_MAX_EVIDENCE_AGE_DAYS, ge=1, le=1095)
    cited_as: tuple[str, ...] = ()
    nag: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    # SOC 2: the NIST SP 800-53 controls the criterion relies on (their automated evidence becomes its own).
    relies_on: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _override_has_reason(self) -> Control:
        if self.assessment is not None and not self.assessment_reason:
            raise ValueError(f"control {self.id}: an assessment override needs an assessment_reason")
        return self

    @field_validator("evidence")
    @classmethod
    def _known_sources(cls, evidence: tuple[str, ...]) -> tuple[str, ...]:
        for reference in evidence:
            source, _, rule = reference.partition(":")
            if source not in EVIDENCE_SOURCES or not rule:
                raise ValueError(f"evidence '{reference}' is not <source>:<rule> with source in {EVIDENCE_SOURCES}")
        return evidence

    @property
    def references(self) -> tuple[str, ...]:
        return (*(f"nag:{rule}" for rule in self.nag), *self.evidence, *(f"nist:{c}" for c in self.relies_on))

    @property
    def is_gap(self) -> bool:
        return not self.references


class Catalog(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    framework: str
    reference: str
    nag_pack: str
    derived_from: str
    # How the evidence line names the framework and its items ("SOC 2 TSC 38 criteria"); the framework's own
    # name and "controls" when unset.
    summary_name: str | None = None
    counted_as: Literal["controls", "criteria", "standards"] = "controls"
    controls: tuple[Control, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ages_only_for_attested_controls(self) -> Catalog:
        for control in self.controls:
            if (control.max_evidence_age_days != DEFAULT_MAX_EVIDENCE_AGE_DAYS
                    and self.assessment_of(control) == "automated"):
                raise ValueError(f"control {control.id} is assessed automated: max_evidence_age_days applies only "
                                 "to controls a person attests (hybrid, procedural)")
        return self

    def gaps(self) -> list[Control]:
        return [control for control in self.controls if control.is_gap]

    def assessment_of(self, control: Control) -> Assessment:
        return control.assessment or default_assessment(self.nag_pack, control.id)


def base_control(pack: str, cited: str) -> str:
    """The catalog entry a cited id belongs to: NIST enhancements and parts roll up to the base control
    (``SC-7(4)(b)`` -> ``SC-7``); HIPAA implementation specifications are entries of their own."""
    if pack.startswith("NIST"):
        match = _NIST_BASE.match(cited)
        if not match:
            raise CatalogError(f"{pack}: cited control '{cited}' is not like 'SC-7(4)(b)'")
        return match[0]
    return cited


def load_catalog(path: Path) -> Catalog:
    """:raise CatalogError: the file is missing, not YAML, or malformed."""
    document = read_yaml(path, CatalogError)
    try:
        catalog = Catalog.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CatalogError(f"{path.name}: {where}: {first['msg']}") from None
    ids = [control.id for control in catalog.controls]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise CatalogError(f"{path.name}: control ids repeat: {repeated}")
    return catalog


def load_catalogs() -> dict[str, Catalog]:
    """:raise CatalogError: a catalog is malformed, or a SOC 2 criterion relies on a control NIST's lacks."""
    catalogs = {pack: load_catalog(path) for pack, path in CATALOG_FILES.items()}
    known = {control.id for control in catalogs[CROSSWALK_PACK].controls}
    for control in catalogs[SOC2].controls:
        missing = sorted(set(control.relies_on) - known)
        if missing:
            raise CatalogError(f"{CATALOG_FILES[SOC2].name}: {control.id}: relies_on names {missing}, which "
                               f"{CATALOG_FILES[CROSSWALK_PACK].name} does not hold")
    return catalogs


def derive(catalog: Catalog, rules: Mapping[str, Sequence[str]], version: str) -> Catalog:
    """The catalog with ``nag`` and ``cited_as`` recomputed from ``rules`` (rule id -> cited control ids).
    Controls cdk-nag newly cites are added with an empty title, which fails validation until someone names them."""
    cited_by: dict[str, set[str]] = defaultdict(set)
    rules_of: dict[str, set[str]] = defaultdict(set)
    for rule, cited in rules.items():
        for control in cited:
            base = base_control(catalog.nag_pack, control)
            cited_by[base].add(control)
            rules_of[base].add(rule)
    known = {control.id for control in catalog.controls}
    controls = [
        control.model_copy(update={
            "nag": tuple(sorted(rules_of.get(control.id, ()))),
            "cited_as": tuple(sorted(cited_by.get(control.id, set()) - {control.id})),
        })
        for control in catalog.controls
    ]
    for new in sorted(set(rules_of) - known):
        controls.append(Control.model_construct(id=new, title="", cited_as=tuple(sorted(cited_by[new] - {new})),
                                                nag=tuple(sorted(rules_of[new])), evidence=()))
    return catalog.model_copy(update={"controls": tuple(controls), "derived_from": f"cdk-nag {version}"})


def render(catalog: Catalog) -> str:
    document = catalog.model_dump(mode="json", exclude_defaults=True, include=set(Catalog.model_fields) - {"controls"})
    document["controls"] = catalog.model_dump(mode="json")["controls"]
    for control in document["controls"]:
        for key in ("cited_as", "nag", "evidence", "relies_on", "assessment", "assessment_reason"):
            if not control[key]:
                del control[key]
        if control["max_evidence_age_days"] == DEFAULT_MAX_EVIDENCE_AGE_DAYS:
            del control["max_evidence_age_days"]
    header = _HEADER.format(framework=catalog.framework, sources=", ".join(EVIDENCE_SOURCES))
    return header + yaml.safe_dump(document, sort_keys=False, width=120, allow_unicode=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    write = "--write" in args
    drifted = []
    for pack, path in NAG_CATALOG_FILES.items():
        try:
            current = load_catalog(path)
        except CatalogError as error:
            print(f"catalog: error: {error}", file=sys.stderr)
            return 2
        expected = render(derive(current, rule_controls()[pack], cdk_nag_version()))
        if path.read_text() != expected:
            drifted.append(path.name)
            if write:
                path.write_text(expected)
    if drifted and not write:
        print(f"catalog: FAIL: {drifted} differ from cdk-nag {cdk_nag_version()}; "
              "run python -m policies.catalog --write")
        return 1
    print(f"catalog: {'rewrote ' + str(drifted) if drifted else 'PASS: catalogs match'} cdk-nag {cdk_nag_version()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
