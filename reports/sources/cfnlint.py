"""cfn-lint, from ``cdk.out/cfn-lint.json`` (written by ``gates.cfn_lint``): one record per template, failed
by any error; warnings are listed in its detail."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from gates.assembly import CFN_LINT_RESULT
from reports.model import Collected, Record, Source, SourceRun, Status, not_collected
from reports.sources.stacks import StackIndex

# One record per template: cfn-lint judges templates, not rules (its findings are in the record's detail).
RULE = "templates"

RESULT = CFN_LINT_RESULT


def collect(outdir: Path) -> Collected:
    path = outdir / RESULT
    if not path.exists():
        return not_collected(Source.CFN_LINT, f"{path} not found: run `make lint`", (path,))
    findings = json.loads(path.read_text())["findings"]
    by_template: dict[str, list[dict[str, object]]] = defaultdict(list)
    for finding in findings:
        by_template[str(finding["template"])].append(finding)
    stacks = StackIndex.read(outdir)
    templates = sorted(str(t.relative_to(outdir)) for t in outdir.rglob("*.template.json"))
    records = []
    for template in templates:
        found = by_template.get(template, [])
        errors = [f"{f['rule_id']} line {f['line']}: {f['message']}" for f in found
                  if str(f["rule_id"]).startswith("E")]
        warnings = sorted({str(f["rule_id"]) for f in found if not str(f["rule_id"]).startswith("E")})
        records.append(Record(source=Source.CFN_LINT, rule=RULE, where=stacks.of_template(template, template),
                              status=Status.FAIL if errors else Status.PASS,
                              detail={"errors": errors, "warnings": warnings}))
    if not records:
        return not_collected(Source.CFN_LINT, f"no templates under {outdir}", (path,))
    return Collected(run=SourceRun(source=Source.CFN_LINT, collected=True, inputs=(path,)), records=tuple(records))
