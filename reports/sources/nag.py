"""The three cdk-nag packs, from ``cdk.out/validation-report.json``.

cdk-nag reports findings only. A pack rule with no finding becomes one ``pass`` record per synthesized
environment that holds resources of the rule's service (detail says so); where there are none, the rule had
nothing to judge and gets no record, so the control matrix shows it as not applicable rather than passed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gates.assembly import REPORT_FILE
from policies.acknowledgments import ACK_MARKER
from policies.nag_controls import NagRule
from reports.model import Collected, Record, Source, SourceRun, Status, Where, not_collected
from reports.sources.stacks import StackIndex

REPORT = REPORT_FILE


def acknowledgment_detail(reason: str) -> dict[str, str]:
    """Reason, entry id, owner and review date from the text the registry wrote (aspects/nag.py)."""
    marker = ACK_MARKER.search(reason)
    if not marker:
        return {"reason": reason}
    return {"reason": reason[: marker.start()].strip(), "acknowledgment": marker["id"],
            "owner": marker["owner"], "expires": marker["expires"]}


def _findings(report: Mapping[str, Any], stacks: StackIndex, packs: Sequence[str]) -> list[Record]:
    records = []
    for plugin in report.get("pluginReports", []):
        if plugin.get("pluginName") not in packs:
            continue
        for kind, status in (("violations", Status.FAIL), ("suppressedViolations", Status.ACKNOWLEDGED)):
            for finding in plugin.get(kind, []):
                detail = acknowledgment_detail(str(finding.get("reason", ""))) if status is Status.ACKNOWLEDGED else {}
                for construct in finding.get("violatingConstructs", []):
                    records.append(Record(
                        source=Source.NAG, rule=str(finding.get("ruleName")), status=status,
                        where=stacks.of_construct(str(construct.get("constructPath", ""))),
                        title=" ".join(str(finding.get("description", "")).split()), detail=detail,
                    ))
    return records


def collect(outdir: Path, pack_rules: Mapping[str, Mapping[str, NagRule]]) -> Collected:
    """``pack_rules``: pack -> rule id -> rule, as policies/nag_controls parses them from cdk-nag."""
    path = outdir / REPORT
    if not path.exists():
        return not_collected(Source.NAG, f"{path} not found: run the synth", (path,))
    report = json.loads(path.read_text())
    reported = {plugin.get("pluginName") for plugin in report.get("pluginReports", [])}
    missing = sorted(set(pack_rules) - reported)
    if missing:
        return not_collected(Source.NAG, f"{path} has no report from {missing}", (path,))
    stacks = StackIndex.read(outdir)
    if not stacks.environments:
        return not_collected(Source.NAG, f"no cloud assembly manifests under {outdir}", (path,))
    records = _findings(report, stacks, list(pack_rules))
    flagged = {(r.rule.split("[", 1)[0], r.where.env) for r in records}
    for rules in pack_rules.values():
        for rule in rules.values():
            for env in stacks.environments:
                in_scope = any(rule.covers(kind) for kind in stacks.resource_types[env])
                if in_scope and (rule.id, env) not in flagged:
                    records.append(Record(
                        source=Source.NAG, rule=rule.id, status=Status.PASS, where=Where(env=env),
                        detail={"note": f"no resource it inspects in {env} was flagged"},
                    ))
    return Collected(run=SourceRun(source=Source.NAG, collected=True, inputs=(path,)), records=tuple(records))
