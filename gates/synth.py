"""After synthesis: read what the validators wrote and decide. Pure functions over the report document.

CDK stops a failing synthesis by itself in most modes, but not when the CLI runs the app in "process" mode
(the failure is only an exit code inside the jsii child), and it never checks who acknowledged a finding or that
each acknowledgment still suppresses something. This gate does all three, from ``validation-report.json`` and the
cloud assembly (``gates.suppressions``), then records what it judged for the later gates (``gates.custody``).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aspects.guard import GuardResult
from aspects.nag import PACKS, AppliedAcknowledgment
from gates.assembly import GUARDS_FILE, REPORT_FILE
from gates.custody import record
from gates.suppressions import Assembly, judge_suppressions, suppressions
from gates.verdict import Verdict

MAX_LINES = 40  # problem lines printed; the report on disk holds the rest


class ReportMissing(FileNotFoundError):
    """Synthesis wrote no validation report, so nothing can be judged."""


@dataclass(frozen=True)
class SynthVerdict:
    violations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    acknowledged_per_pack: Mapping[str, int] = field(default_factory=dict)
    missing_packs: list[str] = field(default_factory=list)
    # Suppressions the registry did not make, entries wider than their findings or off their stated count.
    registry_problems: list[str] = field(default_factory=list)
    # Entry id -> environment -> findings it suppressed there.
    acknowledged_per_entry: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @property
    def judged(self) -> bool:
        """A report without every nag pack is no evidence of compliance, whatever else it says."""
        return not self.missing_packs

    @property
    def passed(self) -> bool:
        return self.judged and not self.violations and not self.unused and not self.registry_problems

    @property
    def problems(self) -> list[str]:
        """Every line that fails the gate, suppressions outside the registry first."""
        return self.registry_problems + self.violations + self.unused


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


def judge_report(
    report: Mapping[str, Any], applied: Sequence[AppliedAcknowledgment], assembly: Assembly
) -> SynthVerdict:
    """Blocking findings, suppressions the registry did not make or did not state, acknowledgments that suppressed
    nothing, and suppression counts per pack and per entry."""
    judged = judge_suppressions(report, applied, assembly)
    per_pack = Counter(item.pack for item in suppressions(report))
    blocking, informing = _violation_lines(report)
    reported = {plugin.get("pluginName") for plugin in report.get("pluginReports", [])}
    return SynthVerdict(
        violations=blocking,
        warnings=informing,
        unused=judged.unused,
        acknowledged_per_pack=dict(per_pack),
        missing_packs=[pack for pack in PACKS if pack not in reported],
        registry_problems=judged.problems,
        acknowledged_per_entry=judged.counts,
    )


def record_guards(outdir: Path, result: GuardResult, acknowledged: Mapping[str, Mapping[str, int]]) -> None:
    """``guards.json``: the project, the validating rules that ran per environment (the evidence reports each as a
    pass unless the report holds an error of it) and the findings each registry entry suppressed per environment."""
    document = {"project": result.project, "environments": result.rules, "acknowledged": acknowledged}
    (outdir / GUARDS_FILE).write_text(json.dumps(document, indent=1))


def conclude(outdir: Path, result: GuardResult, *, commit: str) -> SynthVerdict:
    """Judge what a guarded synthesis wrote to ``outdir``, write the guards' record (rules, findings per entry) and
    the digests of everything judged with the verdict (the later gates refuse a failed synthesis). App and tests
    conclude a synthesis the same way.

    :raise ReportMissing: no validation report. :raise AssemblyUnreadable: a stack's files are missing.
    """
    verdict = judge_report(load_report(outdir), result.acknowledgments, Assembly.read(outdir))
    record_guards(outdir, result, verdict.acknowledged_per_entry)
    record(outdir, commit, passed=verdict.passed)
    return verdict


def announce(verdict: SynthVerdict, names: Sequence[str], outdir: Path) -> Verdict:
    """Print the verdict as the synth gate's lines (each problem, then one summary line) and return it."""
    if not verdict.judged:
        print(f"synth: INCONCLUSIVE: no report from {verdict.missing_packs}; the nag packs did not run",
              file=sys.stderr)
        return Verdict.INCONCLUSIVE
    problems = verdict.problems
    for line in problems[:MAX_LINES]:
        print(f"synth: {line}", file=sys.stderr)
    if len(problems) > MAX_LINES:
        print(f"synth: ... and {len(problems) - MAX_LINES} more in {outdir / REPORT_FILE}", file=sys.stderr)
    packs = ", ".join(f"{pack} {count}" for pack, count in sorted(verdict.acknowledged_per_pack.items())) or "none"
    environments = ",".join(names)
    summary = (
        f"environments {environments}, {len(verdict.violations)} violations, "
        f"{len(verdict.unused)} unused acknowledgments, {len(verdict.warnings)} non-blocking warnings, "
        f"acknowledged findings: {packs}"
    )
    if problems:
        print(f"synth: FAIL: {summary}", file=sys.stderr)
        return Verdict.FAIL
    print(f"synth: PASS: {summary}")
    return Verdict.PASS
