"""The RTO/RPO budget of a region loss, from ``cdk.out/resilience.json`` (written by ``gates.resilience``): per
environment one record for the RTO, one for the region-loss RPO and one for the backup RPO, each with its terms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gates.assembly import RESILIENCE_RESULT
from gates.resilience import inputs
from reports.model import Collected, Record, Source, SourceRun, Status, Where, not_collected

ROOT = Path(__file__).resolve().parents[2]  # where the budget's inputs (slo.yaml, the runbooks) live
# rule -> (budget key, objective key, terms key, title)
RULES = {
    "budget.rto": ("rto_s", "rto_objective_s", "critical_path_terms", "worst-case recovery time of a region loss"),
    "budget.rpo": ("rpo_s", "rpo_objective_s", "rpo_terms", "writes a region loss may lose before anyone is told"),
    "budget.backup_rpo": ("backup_rpo_s", "backup_rpo_objective_s", "backup_rpo_terms",
                          "writes lost when the replica is unusable too (backup copies in the secondary)"),
}


def _terms(budget: dict[str, Any], key: str) -> list[dict[str, Any]]:
    if key == "critical_path_terms":
        on_path = set(budget["critical_path"])
        return [term for term in budget["rto_terms"] if term["name"] in on_path]
    return list(budget[key])


def collect(outdir: Path) -> Collected:
    path = outdir / RESILIENCE_RESULT
    if not path.exists():
        return not_collected(Source.RESILIENCE, f"{path} not found: run `make resilience`", (path,))
    document = json.loads(path.read_text())
    edited = inputs.changed(document.get("inputs") or {}, ROOT)
    if edited:
        return not_collected(Source.RESILIENCE, f"{path}: computed from other versions of {', '.join(edited)}: "
                                                "run `make resilience` again", (path,))
    records = []
    for budget in document["budgets"]:
        for rule, (value, objective, terms, title) in RULES.items():
            holds = budget[objective] is not None and budget[value] <= budget[objective]
            records.append(Record(
                source=Source.RESILIENCE, rule=rule, where=Where(env=str(budget["env"])), title=title,
                status=Status.PASS if holds else Status.FAIL,
                detail={"observed": budget[value], "threshold": budget[objective], "comparison": "<=", "unit": "s",
                        "terms": [{k: term[k] for k in ("name", "seconds", "basis", "branch")}
                                  for term in _terms(budget, terms)]}))
    if not records:
        return not_collected(Source.RESILIENCE, f"{path} holds no budget", (path,))
    return Collected(run=SourceRun(source=Source.RESILIENCE, collected=True, inputs=(path,)), records=tuple(records))
