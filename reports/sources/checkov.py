"""checkov's merged JSON report (``cdk.out/checkov.json``, written by ``gates.checkov``): a record per
check result, plus one for the gate's own verdict, which also judges what no single result shows (a skip that
is not the registry's, a custom check that never ran)."""

from __future__ import annotations

import json
from pathlib import Path

from gates.assembly import CHECKOV_RESULT
from reports.model import Collected, Record, Source, SourceRun, Status, Where, not_collected
from reports.sources.nag import acknowledgment_detail
from reports.sources.stacks import StackIndex

RESULT = CHECKOV_RESULT
_STATUS = {"passed_checks": Status.PASS, "failed_checks": Status.FAIL, "skipped_checks": Status.ACKNOWLEDGED}
_GATE = {0: Status.PASS, 1: Status.FAIL}


def collect(outdir: Path) -> Collected:
    path = outdir / RESULT
    if not path.exists():
        return not_collected(Source.CHECKOV, f"{path} not found: run `make checkov`", (path,))
    report = json.loads(path.read_text())
    stacks = StackIndex.read(outdir)
    records = []
    for kind, status in _STATUS.items():
        for item in report.get("results", {}).get(kind, []):
            comment = str((item.get("check_result") or {}).get("suppress_comment", ""))
            template, resource = str(item.get("file_path", "")), str(item.get("resource", ""))
            # The construct path names the resource across commits (python -m reports diff keys on it).
            construct = stacks.construct_path(template, resource.split(".", 1)[-1])
            records.append(Record(
                source=Source.CHECKOV, rule=str(item.get("check_id")), status=status,
                where=stacks.of_template(template, resource), title=str(item.get("check_name", "")),
                detail={**(acknowledgment_detail(comment) if status is Status.ACKNOWLEDGED else {}),
                        **({"construct_path": construct} if construct else {})},
            ))
    if not records:
        return not_collected(Source.CHECKOV, f"{path} holds no check results", (path,))
    gate = report.get("gate") or {}
    exit_code = gate.get("exit_code")
    records.append(Record(
        source=Source.CHECKOV, rule="gate", where=Where(resource="all templates"),
        status=_GATE.get(exit_code, Status.INCONCLUSIVE) if isinstance(exit_code, int) else Status.INCONCLUSIVE,
        title=str(gate.get("summary", "no verdict")),
        detail={"problems": gate.get("problems", ["the gate wrote no verdict"])},
    ))
    return Collected(run=SourceRun(source=Source.CHECKOV, collected=True, inputs=(path,)), records=tuple(records))
