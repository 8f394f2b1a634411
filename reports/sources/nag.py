"""cdk-nag and CDK's other validators, from ``cdk.out/validation-report.json``.

cdk-nag reports findings only. A pack rule with no finding in an environment becomes one ``pass`` record
for that environment (detail says so), which is as much as a report without passes can support.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reports.model import Collected, Record, Source, SourceRun, Status, Where, not_collected
from reports.sources.stacks import StackIndex

REPORT = "validation-report.json"
_ACK_MARKER = re.compile(r"\[ack (?P<id>[a-z0-9-]+); owner (?P<owner>[^;]+); review by (?P<expires>[0-9-]+)\]")


def acknowledgment_detail(reason: str) -> dict[str, str]:
    """Reason, entry id, owner and review date from the text the registry wrote (aspects/nag.py)."""
    marker = _ACK_MARKER.search(reason)
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


def collect(outdir: Path, pack_rules: Mapping[str, Sequence[str]], environments: Sequence[str]) -> Collected:
    """``pack_rules``: pack -> every rule id it applies (from policies/nag_controls for the control packs)."""
    path = outdir / REPORT
    if not path.exists():
        return not_collected(Source.NAG, f"{path} not found: run the synth", (path,))
    report = json.loads(path.read_text())
    reported = {plugin.get("pluginName") for plugin in report.get("pluginReports", [])}
    missing = sorted(set(pack_rules) - reported)
    if missing:
        return not_collected(Source.NAG, f"{path} has no report from {missing}", (path,))
    stacks = StackIndex.read(outdir)
    records = _findings(report, stacks, list(pack_rules))
    flagged = {(r.rule.split("[", 1)[0], r.where.env) for r in records}
    for rules in pack_rules.values():
        for rule in rules:
            for env in environments:
                if (rule, env) not in flagged:
                    records.append(Record(source=Source.NAG, rule=rule, status=Status.PASS, where=Where(env=env),
                                          detail={"note": f"no resource in {env} was flagged"}))
    return Collected(run=SourceRun(source=Source.NAG, collected=True, inputs=(path,)), records=tuple(records))
