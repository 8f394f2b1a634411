"""The control matrix: each catalog control, the records behind each of its evidence references, and one
status. A reference to a source that did not run is "not collected"; one that matched no record of a source
that did run is "inconclusive", except a nag rule, which has no record when no resource of its service was
synthesized: "not applicable", left out of the control's status. None of these is ever a pass.

How a control can be assessed decides what its status rests on (policies/catalog.py): an ``automated`` control on
its references; a ``procedural`` one only on a person's attestation (its references are shown as supporting, and
never make it pass); a ``hybrid`` one on both. Without a counting attestation such a control "needs attestation";
with an expired one it is "stale"."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from policies.attestations import Attestation
from policies.catalog import CROSSWALK_PACK, Catalog
from reports.model import Record, Status

GAP = "gap"
STALE = "stale"
NEEDS_ATTESTATION = "needs-attestation"
ATTESTED = Status.PASS.value
# The statuses a control can have beyond its references' (the legend explains each).
CONTROL_ONLY_STATUSES = (STALE, NEEDS_ATTESTATION, GAP)
# Worst first: a control shows the worst status among its applicable references.
_SEVERITY = [Status.FAIL, Status.INCONCLUSIVE, Status.NOT_COLLECTED, Status.ACKNOWLEDGED, Status.PASS,
             Status.NOT_APPLICABLE]
_SEPARATORS = (".", ":", "[")


class ReferenceResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    reference: str
    status: Status
    counts: dict[str, int]
    supporting: bool = False  # on a procedural control: shown, never what its status rests on


class ControlResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    framework: str
    id: str
    title: str
    status: str  # a Status value, or one of CONTROL_ONLY_STATUSES
    references: tuple[ReferenceResult, ...]
    assessment: str = "automated"
    attestations: tuple[str, ...] = ()  # ids of the counting attestations that cover it (valid or expired)
    # A SOC 2 criterion's relied-on NIST controls that have no automated evidence: its attestation must cover them.
    attest_relied_on: tuple[str, ...] = ()


def matches(reference_rule: str, rule: str) -> bool:
    """``drill:failover`` covers ``failover`` and ``failover.rto_seconds``; ``nag:X`` covers ``X[finding]``."""
    return rule == reference_rule or any(rule.startswith(reference_rule + sep) for sep in _SEPARATORS)


def worst(statuses: Sequence[Status]) -> Status:
    return min(statuses, key=_SEVERITY.index)


def evaluate_reference(reference: str, by_source: Mapping[str, Mapping[str, list[Record]]],
                       collected: Mapping[str, bool]) -> ReferenceResult:
    """``by_source``: source -> record rule -> records, with rules in sorted order."""
    source, _, rule = reference.partition(":")
    if not collected.get(source, False):
        return ReferenceResult(reference=reference, status=Status.NOT_COLLECTED, counts={})
    groups = by_source.get(source, {})
    names = list(groups)
    # Every rule a reference covers starts with it, so they sit together in sorted order.
    found = []
    for name in names[bisect_left(names, rule):]:
        if not name.startswith(rule):
            break
        if matches(rule, name):
            found.extend(groups[name])
    if not found:
        status = Status.NOT_APPLICABLE if source == "nag" else Status.INCONCLUSIVE
        return ReferenceResult(reference=reference, status=status, counts={})
    counts = Counter(r.status.value for r in found)
    return ReferenceResult(reference=reference, status=worst([r.status for r in found]), counts=dict(counts))


def _attested(key: str, attestations: Sequence[Attestation], today: dt.date) -> tuple[str, tuple[str, ...]]:
    """The attestation half of a control: pass, stale or needs-attestation, and the attestations behind it."""
    covering = [a for a in attestations if a.counts and key in a.controls]
    if any(a.valid_on(today) for a in covering):
        return ATTESTED, tuple(a.id for a in covering)
    return (STALE if covering else NEEDS_ATTESTATION), tuple(a.id for a in covering)


_AUTOMATED_HALF_PASSES = (Status.PASS.value, Status.ACKNOWLEDGED.value)


def _status(assessment: str, automated: str, attested: str, *, supporting_failed: bool) -> str:
    """``automated``: the worst of the references the control rests on (GAP when none); ``attested``: its
    attestation half. A failed check fails the control even where it is only supporting: a valid attestation
    never hides a violation on the same control."""
    if assessment == "automated":
        return automated
    if supporting_failed:
        return Status.FAIL.value
    if assessment == "procedural":
        return attested
    # hybrid: both halves; what the automated half lacks shows first, then the attestation. Nothing automated
    # to judge here (not applicable) leaves the procedure half to decide.
    if automated == Status.NOT_APPLICABLE.value:
        return attested
    if automated not in _AUTOMATED_HALF_PASSES:
        return automated
    return automated if attested == ATTESTED else attested


class _Half(BaseModel):
    """A NIST control's automated half as a SOC 2 criterion that relies on it sees it."""

    model_config = ConfigDict(frozen=True)

    status: str  # a Status value, or GAP
    supporting: bool  # the NIST control is procedural: its references only support it, so they only support here


def control_matrix(
    catalogs: Mapping[str, Catalog], records: Sequence[Record], collected: Mapping[str, bool],
    attestations: Sequence[Attestation] = (), today: dt.date | None = None,
) -> list[ControlResult]:
    """``collected``: source -> whether its results may be used (a source stale in a release may not)."""
    today = today or dt.date.today()
    grouped: dict[str, dict[str, list[Record]]] = {}
    for record in records:
        grouped.setdefault(record.source.value, {}).setdefault(record.rule, []).append(record)
    by_source = {source: dict(sorted(rules.items())) for source, rules in grouped.items()}
    results = []
    halves: dict[str, _Half] = {}  # "<pack>:<id>" -> its automated half, for SOC 2's relies_on
    for pack, catalog in catalogs.items():
        for control in catalog.controls:
            assessment = catalog.assessment_of(control)
            refs, unproven = _references(control.references, by_source, collected, halves)
            if assessment == "procedural":
                refs = tuple(ref.model_copy(update={"supporting": True}) for ref in refs)
            proving = [r.status for r in refs if not r.supporting]
            automated = worst(proving).value if proving else GAP
            supporting = [r.status for r in refs if r.supporting]
            halves[f"{pack}:{control.id}"] = _Half(
                status=automated if assessment != "procedural" else (worst(supporting).value if supporting else GAP),
                supporting=assessment == "procedural")
            attested, covering = _attested(f"{pack}:{control.id}", attestations, today)
            status = _status(assessment, automated, attested, supporting_failed=Status.FAIL in supporting)
            results.append(ControlResult(framework=catalog.framework, id=control.id, title=control.title,
                                         status=status, references=refs, assessment=assessment,
                                         attestations=covering, attest_relied_on=unproven))
    return results


NIST_REFERENCE = "nist:"


def _references(references: Sequence[str], by_source: Mapping[str, Mapping[str, list[Record]]],
                collected: Mapping[str, bool], halves: Mapping[str, _Half],
                ) -> tuple[tuple[ReferenceResult, ...], tuple[str, ...]]:
    """The control's evaluated references, and the relied-on NIST controls with no automated half to carry over."""
    evaluated: list[ReferenceResult] = []
    unproven: list[str] = []
    for reference in references:
        if not reference.startswith(NIST_REFERENCE):
            evaluated.append(evaluate_reference(reference, by_source, collected))
        elif (carried := _crosswalked(reference, halves)) is not None:
            evaluated.append(carried)
        else:
            unproven.append(reference)
    return tuple(evaluated), tuple(unproven)


def _crosswalked(reference: str, halves: Mapping[str, _Half]) -> ReferenceResult | None:
    """A SOC 2 criterion's reference to a NIST control: that control's automated half; None when it has none.

    A NIST control without automated evidence proves nothing for the criterion: it is not an automated reference
    (calling it inconclusive would say a check ran), but a part of the criterion only its attestation can cover.
    A procedural NIST control's checks only support it, so they only support the criterion.
    """
    half = halves.get(f"{CROSSWALK_PACK}:{reference.removeprefix(NIST_REFERENCE)}")
    if half is None or half.status == GAP:
        return None
    return ReferenceResult(reference=reference, status=Status(half.status), counts={}, supporting=half.supporting)
