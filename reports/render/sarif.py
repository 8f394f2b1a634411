"""SARIF 2.1.0 for GitHub code scanning: failed findings as errors, acknowledged ones as results carrying an
external suppression with the registry's justification. Passes are not findings and are left out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports.model import Record, Source, Status

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOLS = {Source.NAG: "cdk-nag", Source.ASPECT: "records-guards", Source.CHECKOV: "checkov", Source.CFN_LINT: "cfn-lint"}


def _result(record: Record, template_of: Mapping[str, str]) -> dict[str, Any]:
    where = record.where
    template = template_of.get(f"{where.env}/{where.stack}", "cdk.out")
    result: dict[str, Any] = {
        "ruleId": record.rule,
        "level": "error" if record.status is Status.FAIL else "note",
        "message": {"text": f"{record.title or record.rule} ({where.label()})"},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": template}},
            "logicalLocations": [{"fullyQualifiedName": where.label(), "kind": "resource"}],
        }],
        "partialFingerprints": {"recordKey/v1": "|".join(record.key)},
    }
    if record.status is Status.ACKNOWLEDGED:
        detail = record.detail
        justification = (f"{detail.get('reason', '')} (owner {detail.get('owner', '?')}, review by "
                         f"{detail.get('expires', '?')}, entry {detail.get('acknowledgment', '?')})")
        result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": justification}]
    return result


def render(records: list[Record], versions: Mapping[str, str], template_of: Mapping[str, str]) -> dict[str, Any]:
    runs = []
    for source, tool in TOOLS.items():
        findings = [r for r in records if r.source is source and r.status in (Status.FAIL, Status.ACKNOWLEDGED)]
        rules = sorted({r.rule for r in findings})
        runs.append({
            "tool": {"driver": {"name": tool, "version": versions.get(tool, "unknown"),
                                "rules": [{"id": rule} for rule in rules]}},
            "results": [_result(r, template_of) for r in findings],
        })
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": runs}
