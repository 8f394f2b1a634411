"""``python -m reports kpis --runs runs.json --records DIR [--env prod] [--days 30] [--until ISO]``: delivery KPIs of
an environment, judged against ``delivery`` in policies/slo.yaml.

Inputs: the repository's workflow runs as GitHub's REST API exports them (``gh api --paginate --slurp
repos/<owner>/<repo>/actions/runs``), and the delivery records of the evidence vault (``aws s3 cp --recursive
s3://<vault>/<env>/deployments/ DIR``; gates/deliveries.py). Over the window ending at ``--until``:

- deployment frequency: the environment's deployments (primary steps that reached the service) per week;
- lead time: median from a deployed commit's time (its run's ``head_commit.timestamp``) to its promotion;
- change failure rate: deployments one of whose steps was rolled back during its rollout, or that a rollback
  record rolled back later, in percent;
- time to restore: median per failure, from the failed step's start (conservative: its whole rollout counts)
  or a later rollback's ``detected_at``, to the rollback's end;
- pipeline: median duration of the successful CI runs (ci.yml, on pull requests).

A KPI without data is inconclusive, never a pass; time to restore with no failure in the window is not judged.
Writes ``reports/collected/kpis.json`` (with its provenance), which the evidence reads as the source ``delivery``.
Exit 0 every KPI within target, 1 one missed it, 2 one could not be measured or the inputs are unreadable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gates import provenance
from gates.deliveries import DeliveryError, DeploymentRecord, RollbackRecord, read_records
from policies.slo import DeliveryTargets, SloError, load_slo

KPIS = Path("reports/collected/kpis.json")
CI_WORKFLOW = ".github/workflows/ci.yml"
Verdict = Literal["pass", "fail", "inconclusive", "not-judged"]
KPI_NAMES = ("deployment_frequency", "lead_time", "change_failure_rate", "time_to_restore", "pipeline")


class Kpi(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # one of KPI_NAMES
    label: str
    observed: float | None
    comparison: Literal["<=", ">="]
    threshold: float
    unit: str
    verdict: Verdict
    basis: str  # what it was computed from, in a phrase

    def line(self) -> str:
        shown = "no data" if self.observed is None else self._with_unit(self.observed)
        if self.verdict == "not-judged":
            shown = self.basis
        return f"{self.label} {shown} ({'≥' if self.comparison == '>=' else '≤'} {self._with_unit(self.threshold)})"

    def _with_unit(self, value: float) -> str:
        return f"{value:g}{'' if self.unit in ('%', '/week') else ' '}{self.unit}"


class KpiReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    env: str
    since: dt.datetime
    until: dt.datetime
    kpis: tuple[Kpi, ...]

    @property
    def verdict(self) -> Verdict:
        verdicts = {kpi.verdict for kpi in self.kpis}
        return "fail" if "fail" in verdicts else "inconclusive" if "inconclusive" in verdicts else "pass"


class RunsError(ValueError):
    """The workflow-runs export is not GitHub's format; the message names the file."""


def read_runs(path: Path) -> list[dict[str, Any]]:
    """``{"workflow_runs": [...]}``, a list of such pages (``--slurp``), or a list of runs. :raise RunsError:"""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise RunsError(f"{path}: {error}") from None
    pages = document if isinstance(document, list) else [document]
    runs: list[dict[str, Any]] = []
    for page in pages:
        if isinstance(page, dict) and "workflow_runs" in page:
            runs += page["workflow_runs"]
        elif isinstance(page, dict) and "head_sha" in page:
            runs.append(page)
        else:
            raise RunsError(f"{path}: not an export of GitHub workflow runs (no workflow_runs)")
    return runs


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _minutes(span: dt.timedelta) -> float:
    return span.total_seconds() / 60


def _judge(observed: float | None, comparison: str, threshold: float) -> Verdict:
    if observed is None:
        return "inconclusive"
    holds = observed >= threshold if comparison == ">=" else observed <= threshold
    return "pass" if holds else "fail"


def compute(records: Sequence[DeploymentRecord | RollbackRecord], runs: Sequence[dict[str, Any]],
            targets: DeliveryTargets, *, env: str, since: dt.datetime, until: dt.datetime) -> KpiReport:
    def within(moment: dt.datetime) -> bool:
        return since <= moment < until

    deployments = [r for r in records if isinstance(r, DeploymentRecord) and r.env == env and r.step == "primary"
                   and within(r.finished_at)]
    rollbacks = [r for r in records if isinstance(r, RollbackRecord) and r.env == env and within(r.finished_at)]
    committed = {run["head_sha"]: _time((run.get("head_commit") or {}).get("timestamp")) for run in runs}
    weeks = (until - since).total_seconds() / (7 * 86400)
    frequency = round(len(deployments) / weeks, 2) if records else None  # no record at all: nothing measured
    kpis = [Kpi(name="deployment_frequency", label="deployment frequency", unit="/week", comparison=">=",
                observed=frequency, threshold=targets.deployment_frequency_per_week_min,
                verdict=_judge(frequency, ">=", targets.deployment_frequency_per_week_min),
                basis=f"{len(deployments)} deployments in {(until - since).days} days")]
    leads = [(d.finished_at - at).total_seconds() / 3600 for d in deployments if d.outcome == "promoted"
             for at in [committed.get(d.commit)] if at is not None]
    lead = _median(leads)
    kpis.append(Kpi(name="lead_time", label="lead time", unit="h", comparison="<=", observed=lead,
                    threshold=targets.lead_time_hours_max, verdict=_judge(lead, "<=", targets.lead_time_hours_max),
                    basis=f"{len(leads)} promoted deployments with their commit's time"))
    steps = [r for r in records if isinstance(r, DeploymentRecord) and r.env == env]
    restored: dict[tuple[str, str], float] = {}  # (commit, run) of a failed deployment -> minutes to restore
    for deployment in deployments:
        # A change failed when one of its run's steps was rolled back (the secondary's too) ...
        failed_step = next((r for r in steps if (r.commit, r.run_id) == (deployment.commit, deployment.run_id)
                            and r.outcome == "rolled_back"), None)
        if failed_step is not None:
            restored[deployment.commit, deployment.run_id] = _minutes(failed_step.finished_at - failed_step.started_at)
    for rollback in rollbacks:
        # ... or a rollback followed: it undid the latest deployment of its commit before the failure was noticed.
        undone = max((d for d in deployments if d.commit == rollback.commit and d.finished_at <= rollback.detected_at),
                     key=lambda d: d.finished_at, default=None)
        if undone is not None:
            restored.setdefault((undone.commit, undone.run_id), _minutes(rollback.finished_at - rollback.detected_at))
    rate = round(100 * len(restored) / len(deployments), 1) if deployments else None
    kpis.append(Kpi(name="change_failure_rate", label="change failure rate", unit="%", comparison="<=",
                    observed=rate, threshold=targets.change_failure_rate_percent_max,
                    verdict=_judge(rate, "<=", targets.change_failure_rate_percent_max),
                    basis=f"{len(restored)} of {len(deployments)} deployments failed"))
    restores = list(restored.values())
    restore = _median(restores)
    kpis.append(Kpi(name="time_to_restore", label="time to restore", unit="min", comparison="<=", observed=restore,
                    threshold=targets.time_to_restore_minutes_max,
                    verdict=_judge(restore, "<=", targets.time_to_restore_minutes_max) if restored else "not-judged",
                    basis=f"{len(restored)} failures" if restored else "no failure to restore"))
    ci_runs = [(start, _time(run.get("updated_at"))) for run in runs
               if run.get("path", "").endswith(CI_WORKFLOW) and run.get("conclusion") == "success"
               for start in [_time(run.get("run_started_at"))] if start is not None and within(start)]
    pipeline = [(end - start).total_seconds() / 60 for start, end in ci_runs if end is not None]
    minutes = _median(pipeline)
    kpis.append(Kpi(name="pipeline", label="pipeline", unit="min", comparison="<=", observed=minutes,
                    threshold=targets.pipeline_minutes_max, verdict=_judge(minutes, "<=", targets.pipeline_minutes_max),
                    basis=f"{len(pipeline)} successful CI runs"))
    return KpiReport(env=env, since=since, until=until, kpis=tuple(kpis))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports kpis", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True, help="GitHub's workflow runs (JSON export)")
    parser.add_argument("--records", type=Path, required=True, help="the delivery records (a folder of JSON)")
    parser.add_argument("--env", default="prod")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--until", type=dt.datetime.fromisoformat, help="end of the window (default: now)")
    parser.add_argument("--out", type=Path, default=KPIS)
    try:
        options = parser.parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    provenance.discard(options.out)
    until = (options.until or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    try:
        report = compute(read_records(options.records), read_runs(options.runs), load_slo().delivery,
                         env=options.env, since=until - dt.timedelta(days=options.days), until=until)
    except (DeliveryError, RunsError, SloError, KeyError, TypeError) as error:
        print(f"kpis: INCONCLUSIVE: {error}", file=sys.stderr)
        return 2
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(report.model_dump_json(indent=1))
    provenance.write(options.out)
    print(f"kpis: {report.verdict.upper()}: {options.env}, {options.days} days to {until:%Y-%m-%d}: "
          + ", ".join(kpi.line() for kpi in report.kpis))
    return {"pass": 0, "fail": 1}.get(report.verdict, 2)
