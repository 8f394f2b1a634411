"""The checkov verdict: failed checks, skips that are not the registry's or no longer needed, registry skips never
applied, custom checks without results, and checks that crashed on a resource."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gates.assembly import resources
from gates.checkov.run import RESULT_KINDS
from gates.verdict import Verdict
from policies.acknowledgments import Registry, marked_entry


@dataclass(frozen=True)
class CheckovVerdict:
    templates: int
    summary: Mapping[str, int]
    failures: list[str] = field(default_factory=list)
    skip_problems: list[str] = field(default_factory=list)
    missing_custom: list[str] = field(default_factory=list)
    parsing_errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """A failed check is a verdict even when other parts of the run could not be judged."""
        return bool(self.failures or self.skip_problems)

    @property
    def judged(self) -> bool:
        return not self.missing_custom and not self.parsing_errors and self.summary.get("resource_count", 0) > 0

    @property
    def exit_code(self) -> Verdict:
        return Verdict.of(failed=self.failed, judged=self.judged)


def _where(item: Mapping[str, Any], paths: Mapping[tuple[str, str], str]) -> str:
    file_path = str(item.get("file_path", "?"))
    logical_id = str(item.get("resource", "?")).split(".", 1)[-1]
    construct = paths.get((file_path.lstrip("/"), logical_id))
    return f"{construct or logical_id} ({file_path.lstrip('/')}:{logical_id})"


def construct_paths(outdir: Path) -> dict[tuple[str, str], str]:
    """(template path relative to ``outdir``, logical id) -> CDK construct path, for findings people can act on."""
    return {(str(r.template), r.logical_id): r.construct_path for r in resources(outdir) if r.construct_path}


def _skip_problem(item: Mapping[str, Any], registry: Registry, paths: Mapping[tuple[str, str], str],
                  recheck: Mapping[tuple[str, str, str], str]) -> str | None:
    """Why a skip is not acceptable, or None. The marker must name an entry that grants this check, the
    resource must lie on that entry's paths in an environment it covers (a copied comment proves nothing),
    and the check must still fail on the resource without the skip."""
    check_id = str(item.get("check_id"))
    file_path, logical_id = str(item.get("file_path", "")).lstrip("/"), str(item.get("resource", "")).split(".", 1)[-1]
    comment = str((item.get("check_result") or {}).get("suppress_comment", ""))
    cited = marked_entry(comment)
    entry = next((e for e in registry.entries if e.id == cited), None)
    where = _where(item, paths)
    if entry is None or check_id not in entry.checkov_checks:
        return (f"{check_id} skipped at {where} without a registry entry that grants it; add the exception to "
                f"policies/acknowledgments.yaml (rules: [checkov::{check_id}]) instead of an inline skip")
    construct = paths.get((file_path, logical_id), "")
    on_paths = entry.matches(construct)
    if not on_paths or not entry.applies_to(construct.split("/", 1)[0]):
        return f"{check_id} skipped at {where} cites acknowledgment '{entry.id}', whose paths do not cover it"
    outcome = recheck.get((file_path, logical_id, check_id))
    if outcome != "failed":
        state = "passes" if outcome == "passed" else "does not apply"
        return (f"acknowledgment '{entry.id}' rule checkov::{check_id} skips nothing at {where}: the check {state} "
                "there without the skip, so remove the rule or the path from the entry")
    return None


def judge(
    report: Mapping[str, Any],
    registry: Registry,
    *,
    templates: int,
    custom_ids: Sequence[str],
    paths: Mapping[tuple[str, str], str] | None = None,
    recheck: Mapping[tuple[str, str, str], str] | None = None,
    check_errors: Sequence[str] = (),
) -> CheckovVerdict:
    """Failed checks, skips that are not the registry's or no longer needed, registry skips that were never
    applied, custom checks without results, and checks that crashed on a resource."""
    paths, recheck = paths or {}, recheck or {}
    results = report.get("results", {})
    failures = [
        f"{item.get('check_id')} at {_where(item, paths)}: {item.get('check_name')}"
        for item in results.get("failed_checks", [])
    ]
    skip_problems = []
    used: set[tuple[str, str]] = set()
    for item in results.get("skipped_checks", []):
        problem = _skip_problem(item, registry, paths, recheck)
        if problem:
            skip_problems.append(problem)
        cited = marked_entry(str((item.get("check_result") or {}).get("suppress_comment", "")))
        if cited:
            used.add((cited, str(item.get("check_id"))))
    granted = {(entry.id, check) for entry in registry.entries for check in entry.checkov_checks}
    for entry_id, check_id in sorted(granted - used):
        skip_problems.append(f"acknowledgment '{entry_id}' rule checkov::{check_id} was applied to no resource")
    seen = {str(item.get("check_id")) for kind in RESULT_KINDS for item in results.get(kind, [])}
    return CheckovVerdict(
        templates=templates,
        summary={k: v for k, v in report.get("summary", {}).items() if isinstance(v, int)},
        failures=failures,
        skip_problems=skip_problems,
        missing_custom=[check for check in custom_ids if check not in seen],
        parsing_errors=[str(p) for p in results.get("parsing_errors", [])] + list(check_errors),
    )


def summary_line(verdict: CheckovVerdict, custom_ids: Sequence[str]) -> str:
    counts = verdict.summary
    state = verdict.exit_code.name
    loaded = len(custom_ids) - len(verdict.missing_custom)
    return (
        f"checkov: {state}: {verdict.templates} templates, {counts.get('resource_count', 0)} resources, "
        f"{counts.get('passed', 0)} passed, {counts.get('failed', 0)} failed, "
        f"{counts.get('skipped', 0)} skipped ({len(verdict.skip_problems)} skip problems), "
        f"custom checks with results {loaded}/{len(custom_ids)}"
    )
