"""The auditors' page (``index.html``) and its charts; the PDF is printed from the same page."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reports.controls import CONTROL_ONLY_STATUSES, ReferenceResult
from reports.evidence import Evidence, judge
from reports.model import Record, Source, Status

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
RECORD_STATUSES = [s.value for s in Status]
CONTROL_STATUSES = [*RECORD_STATUSES, *CONTROL_ONLY_STATUSES]
# What each status means, on the first page of the HTML and the PDF.
LEGEND = {
    "pass": "every reference the control rests on passed (a procedural control: a valid attestation)",
    "acknowledged": "passed but for findings the exception registry accepts, each with an owner and an expiry",
    "fail": "a check found a violation",
    "inconclusive": "a source ran but produced nothing for a reference; never a pass",
    "not-collected": "a source the reference needs did not run (or, in a release bundle, its input is stale)",
    "not-applicable": "the rule had nothing to judge here (no resource of its kind)",
    "stale": "the attestation the control rests on has expired (a source is stale when its input is of another "
             "commit or too old: release bundles only)",
    "needs-attestation": "only a person can prove this control (procedural), or its procedure half (hybrid): no "
                         "attestation counts yet; automated evidence is shown as supporting",
    "gap": "no evidence source is defined for the control (for a SOC 2 criterion: nor automated evidence in the NIST "
           "controls it relies on)",
}


def anchor(reference: str) -> str:
    return "ref-" + re.sub(r"[^A-Za-z0-9]+", "-", reference).strip("-")


def by_source(references: tuple[ReferenceResult, ...]) -> list[tuple[str, dict[str, Any]]]:
    """For print: per evidence source, how many references and their statuses (a NIST control can cite 40 rules)."""
    grouped: dict[str, dict[str, Any]] = {}
    for ref in references:
        entry = grouped.setdefault(ref.reference.split(":", 1)[0], {"refs": 0, "statuses": Counter()})
        entry["refs"] += 1
        entry["statuses"][ref.status.value] += 1
    return list(grouped.items())


def write_charts(evidence: Evidence, out: Path) -> None:
    # matplotlib (with numpy) loads only in the printing child that draws the charts.
    from reports.render.charts import budget_bars, stacked_bars, target_bars

    stacked_bars(evidence.control_counts(), "Controls by status", out / "controls.png")
    stacked_bars(evidence.by_source(), "Records by source and status", out / "sources.png")
    budgets = recovery_budgets(evidence)
    if budgets:
        budget_bars({env: ([(t["name"], t["seconds"]) for t in r.detail["terms"]], r.detail["threshold"])
                     for env, r in budgets}, "Region loss: recovery time budget", out / "resilience.png")
    kpis = delivery_kpis(evidence)
    if kpis:
        target_bars({f"{r.where.env} {r.rule.replace('_', ' ')}": (
            r.detail["observed"], r.detail["threshold"], r.detail["comparison"], r.status.value)
            for r in kpis if r.detail["observed"] is not None}, "Delivery KPIs against their targets",
            out / "delivery.png")


def delivery_kpis(evidence: Evidence) -> list[Record]:
    return [r for r in evidence.records if r.source is Source.DELIVERY]


def recovery_budgets(evidence: Evidence) -> list[tuple[str, Record]]:
    """Each environment's RTO budget record (source resilience), in the order the gate wrote them."""
    return [(r.where.env, r) for r in evidence.records if r.source is Source.RESILIENCE and r.rule == "budget.rto"]


def after_deploy(evidence: Evidence, *, printing: bool) -> list[Record]:
    """Config and drift records, failures and inconclusive ones first; the printed page keeps only those (a pack
    has seventy rules per region), the screen every one."""
    found = [r for r in evidence.records if r.source in (Source.CONFIG, Source.DRIFT)]
    order = {Status.FAIL: 0, Status.INCONCLUSIVE: 1}
    found.sort(key=lambda r: (order.get(r.status, 2), r.source.value, r.where.label(), r.rule))
    return [r for r in found if r.status in order] if printing else found


def render(evidence: Evidence, *, project: str, required: list[str], printing: bool) -> str:
    """The page; ``printing`` leaves out what only a screen can use (every reference of a control, the
    evidence index, resource lists): the PDF is the summary an auditor files, and WeasyPrint's table layout
    takes seconds per hundred rows."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2", "html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["anchor"] = anchor
    env.filters["by_source"] = by_source
    matrix: dict[str, list[object]] = {}
    for control in evidence.controls:
        matrix.setdefault(control.framework, []).append(control)
    references: dict[str, ReferenceResult] = {}
    for control in evidence.controls:
        for ref in control.references:
            references.setdefault(ref.reference, ref)
    return env.get_template("index.html.j2").render(
        evidence=evidence, project=project, css=(TEMPLATES / "report.css").read_text(),
        verdict=judge(evidence, required), matrix=matrix, record_statuses=RECORD_STATUSES,
        control_statuses=CONTROL_STATUSES, legend=LEGEND, by_source=evidence.by_source(),
        problems=[r for r in evidence.records if r.status in (Status.FAIL, Status.INCONCLUSIVE)],
        measured=[r for r in evidence.records if r.source in (Source.DRILL, Source.LOAD) and "observed" in r.detail],
        budgets=[r for r in evidence.records if r.source is Source.RESILIENCE],
        deployed=after_deploy(evidence, printing=printing),
        kpis=delivery_kpis(evidence),
        kpi_chart=any(r.detail["observed"] is not None for r in delivery_kpis(evidence)),
        references=sorted(references.values(), key=lambda r: r.reference), printing=printing,
    )


def write(evidence: Evidence, out: Path, *, project: str, required: list[str]) -> Path:
    """``index.html`` in ``out``; it shows the charts ``write_charts`` draws there."""
    path = out / "index.html"
    path.write_text(render(evidence, project=project, required=required, printing=False))
    return path
