"""The control matrix: each catalog control, the records behind each of its evidence references, and one
status. A reference to a source that did not run is "not collected"; one that matched no record of a source
that did run is "inconclusive", except a nag rule, which has no record when no resource of its service was
synthesized: "not applicable", left out of the control's status. None of these is ever a pass."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from policies.catalog import Catalog
from reports.model import Record, Status

GAP = "gap"
# Worst first: a control shows the worst status among its applicable references.
_SEVERITY = [Status.FAIL, Status.INCONCLUSIVE, Status.NOT_COLLECTED, Status.ACKNOWLEDGED, Status.PASS,
             Status.NOT_APPLICABLE]
_SEPARATORS = (".", ":", "[")


class ReferenceResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    reference: str
    status: Status
    counts: dict[str, int]


class ControlResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    framework: str
    id: str
    title: str
    status: str  # a Status value, or "gap"
    references: tuple[ReferenceResult, ...]


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


def control_matrix(
    catalogs: Mapping[str, Catalog], records: Sequence[Record], collected: Mapping[str, bool]
) -> list[ControlResult]:
    grouped: dict[str, dict[str, list[Record]]] = {}
    for record in records:
        grouped.setdefault(record.source.value, {}).setdefault(record.rule, []).append(record)
    by_source = {source: dict(sorted(rules.items())) for source, rules in grouped.items()}
    results = []
    for catalog in catalogs.values():
        for control in catalog.controls:
            refs = tuple(evaluate_reference(ref, by_source, collected) for ref in control.references)
            status = worst([r.status for r in refs]).value if refs else GAP
            results.append(ControlResult(framework=catalog.framework, id=control.id, title=control.title,
                                         status=status, references=refs))
    return results
