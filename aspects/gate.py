"""After synthesis: read what the validators wrote and decide. Pure functions over the report document.

CDK stops a failing synthesis by itself in most modes, but not when the CLI runs the app in "process" mode
(the failure is only an exit code inside the jsii child), and it never checks that each acknowledgment
still suppresses something. This gate does both, from ``validation-report.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aspects.nag import PACKS, AppliedAcknowledgment

REPORT_FILE = "validation-report.json"


class ReportMissing(FileNotFoundError):
    """Synthesis wrote no validation report, so nothing can be judged."""


@dataclass(frozen=True)
class SynthVerdict:
    violations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    acknowledged_per_pack: Mapping[str, int] = field(default_factory=dict)
    missing_packs: list[str] = field(default_factory=list)

    @property
    def judged(self) -> bool:
        """A report without every nag pack is no evidence of compliance, whatever else it says."""
        return not self.missing_packs

    @property
    def passed(self) -> bool:
        return self.judged and not self.violations and not self.unused


def load_report(outdir: Path) -> dict[str, Any]:
    """:raise ReportMissing: the report is absent or unreadable."""
    path = outdir / REPORT_FILE
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError) as error:
        raise ReportMissing(f"{path}: {error}") from None
    return document


def _blocks(plugin_name: str, severity: str) -> bool:
    """Every nag finding blocks, warnings included (the project's rule, and cdk-nag's own verdict); other
    validators (CloudFormation Validate, construct annotations) block on errors and only inform on warnings."""
    return plugin_name in PACKS or severity == "error"


def _violation_lines(report: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    blocking: list[str] = []
    informing: list[str] = []
    for plugin in report.get("pluginReports", []):
        name = str(plugin.get("pluginName"))
        for violation in plugin.get("violations", []):
            description = " ".join(str(violation.get("description", "")).split())[:200]
            target = blocking if _blocks(name, str(violation.get("severity"))) else informing
            for construct in violation.get("violatingConstructs", []):
                target.append(f"{name}: {violation.get('ruleName')} at {construct.get('constructPath')}: {description}")
    return blocking, informing


def _suppressions(report: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(plugin, acknowledged id, construct path) for every suppressed finding."""
    found = []
    for plugin in report.get("pluginReports", []):
        for item in plugin.get("suppressedViolations", []):
            plugin_name = plugin.get("pluginName", "?")
            found.append((plugin_name, item.get("acknowledgedId", ""), item.get("acknowledgedAt", "")))
    return found


def judge_report(report: Mapping[str, Any], applied: Sequence[AppliedAcknowledgment]) -> SynthVerdict:
    """Blocking findings, acknowledgments that suppressed nothing, and suppression counts per pack."""
    suppressions = _suppressions(report)
    unused = []
    for item in applied:
        # Per environment and per acknowledged construct: a suppression elsewhere does not keep an entry alive.
        where = set(item.construct_paths)
        for rule in item.entry.nag_rules:
            hit = any(ack_id == rule and path in where for _, ack_id, path in suppressions)
            if not hit:
                unused.append(
                    f"acknowledgment '{item.entry.id}' rule {rule} suppressed nothing in '{item.environment}'; "
                    "the finding is fixed, so remove the rule from the entry"
                )
    per_pack = Counter(plugin for plugin, _, _ in suppressions)
    blocking, informing = _violation_lines(report)
    reported = {plugin.get("pluginName") for plugin in report.get("pluginReports", [])}
    return SynthVerdict(
        violations=blocking,
        warnings=informing,
        unused=unused,
        acknowledged_per_pack=dict(per_pack),
        missing_packs=[pack for pack in PACKS if pack not in reported],
    )
