"""Delivery KPIs (``python -m reports kpis``, reports/kpis.py): one record per KPI of the environment it measured,
with its observed value and target. A KPI not judged (time to restore with no failure in the window) yields no
record; one without data is inconclusive."""

from __future__ import annotations

from pathlib import Path

from reports.kpis import KpiReport
from reports.model import Collected, Record, Source, SourceRun, Status, Where, not_collected

STATUS = {"pass": Status.PASS, "fail": Status.FAIL, "inconclusive": Status.INCONCLUSIVE}


def collect(path: Path) -> Collected:
    if not path.exists():
        return not_collected(Source.DELIVERY, f"{path} not found: run `python -m reports kpis` on the workflow runs "
                                              "and the evidence vault's delivery records", (path,))
    report = KpiReport.model_validate_json(path.read_text())
    records = tuple(
        Record(source=Source.DELIVERY, rule=kpi.name, where=Where(env=report.env), status=STATUS[kpi.verdict],
               title=f"{kpi.label}: {kpi.basis}",
               detail={"observed": kpi.observed, "threshold": kpi.threshold, "comparison": kpi.comparison,
                       "unit": kpi.unit, "since": report.since.isoformat(), "until": report.until.isoformat()})
        for kpi in report.kpis if kpi.verdict in STATUS)
    return Collected(run=SourceRun(source=Source.DELIVERY, collected=True, inputs=(path,)), records=records)
