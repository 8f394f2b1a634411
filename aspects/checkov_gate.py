"""checkov over every synthesized template, with the project's own policies; any failed check fails.

    python -m aspects.checkov_gate [cdk.out]     exit 0 pass; 1 failed checks or skip problems; 2 could not judge

checkov runs from its own virtualenv (it pins an old boto3) with ``.checkov.yaml``. Skips are accepted only
when they come from the acknowledgment registry (the guards write them into ``Metadata.checkov.skip`` with
the entry's marker), and a registry skip that no longer skips anything is reported like an unused nag
acknowledgment. A custom check that produced no result at all did not load (checkov logs a broken check and
carries on), so the run is inconclusive rather than a pass. The merged result goes to ``cdk.out/checkov.json``
for the evidence generator.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aspects.assembly import shards, templates_under
from aspects.custody import SEAL_KEY, CustodyBroken, seal, verify
from policies.acknowledgments import Registry, RegistryError, load_registry

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / ".checkov.yaml"
CUSTOM_CHECKS_DIR = ROOT / "policies" / "checkov"
DEFAULT_CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
RESULT_FILE = "checkov.json"
RESULT_KINDS = ("passed_checks", "failed_checks", "skipped_checks")
FORBIDDEN_SETTINGS = frozenset({"check", "skip-check", "soft-fail", "soft-fail-on", "hard-fail-on", "baseline",
                                "skip-path", "skip-resources-without-violations"})
_ACK_MARKER = re.compile(r"\[ack (?P<id>[a-z0-9-]+);")
_CUSTOM_CHECK_FILE = re.compile(r"^(ckv2?_records_[a-z0-9]+_\d+)\.(py|yaml)$")


class CheckovUnavailable(RuntimeError):
    """checkov could not be run, or wrote something that is not its JSON report."""


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
    def exit_code(self) -> int:
        return 1 if self.failed else (0 if self.judged else 2)


def custom_check_ids(directory: Path = CUSTOM_CHECKS_DIR) -> list[str]:
    """Ids of the project's checks, read from their file names (a test holds each file to its id)."""
    return sorted(m[1].upper() for p in directory.iterdir() if (m := _CUSTOM_CHECK_FILE.match(p.name)))


def _report_documents(stdout: str) -> list[Mapping[str, Any]]:
    document = json.loads(stdout)
    documents = document if isinstance(document, list) else [document]
    return [d for d in documents if isinstance(d, Mapping)]


def checked_config(path: Path = CONFIG_FILE) -> Path:
    """:raise CheckovUnavailable: the config selects or excuses checks; exceptions belong in the registry."""
    try:
        settings = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CheckovUnavailable(f"{path}: {error}") from None
    forbidden = sorted(set(settings) & FORBIDDEN_SETTINGS)
    if forbidden:
        raise CheckovUnavailable(f"{path} sets {forbidden}; exceptions belong in policies/acknowledgments.yaml")
    return path


@dataclass(frozen=True)
class Scan:
    documents: list[Mapping[str, Any]]
    check_errors: list[str]  # checkov's "Failed to run check" lines: a resource that check silently skipped


def run_checkov(checkov: Path, groups: Sequence[Sequence[Path]], *, extra: Sequence[str] = ()) -> Scan:
    """One checkov process per group of templates (or directory), in parallel.

    :raise CheckovUnavailable: the executable is missing, or a run wrote no JSON report.
    """
    if not checkov.exists():
        raise CheckovUnavailable(f"{checkov} not found; run `make setup` (checkov lives in its own virtualenv)")
    config = checked_config()
    # Variables like CKV_SKIP_CHECK would drop checks, and CHECKOV_CHECK_FAIL_LEVEL hide crashed ones, without
    # a trace in the report.
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CKV_", "BC_", "CHECKOV_"))}

    def scan(group: Sequence[Path]) -> Scan:
        command = [str(checkov), "--config-file", str(config), *extra]
        command += ["-d", str(group[0])] if len(group) == 1 and group[0].is_dir() else ["-f", *map(str, group)]
        with tempfile.TemporaryDirectory() as home:
            # checkov writes caches under $HOME; a private one keeps parallel runs from sharing them.
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False,
                                  env={**environment, "HOME": home, "LOG_LEVEL": "WARNING"})
        errors = [line.strip() for line in done.stderr.splitlines() if "Failed to run check" in line]
        try:
            return Scan(_report_documents(done.stdout), errors)
        except json.JSONDecodeError:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise CheckovUnavailable(f"checkov exited {done.returncode} without a JSON report: {tail}") from None

    with ThreadPoolExecutor(max_workers=max(1, len(groups))) as pool:
        scans = list(pool.map(scan, groups))
    return Scan([d for s in scans for d in s.documents], [e for s in scans for e in s.check_errors])


def skipped_resources(templates: Sequence[Path], outdir: Path, scratch: Path) -> dict[Path, str]:
    """Copies of every resource that carries skips, without them, one template per original, in ``scratch``;
    returns copy -> original template relative to ``outdir``.

    checkov never evaluates a skipped check, so whether a skip still excuses a failure is only known by running
    the check on the resource without it. The copies are scanned with the real templates (one more file in a
    shard costs far less than one more checkov start-up). A lone resource is judged faithfully by resource
    checks only, which is why the registry refuses to skip graph (CKV2_) checks.
    """
    copies: dict[Path, str] = {}
    for template in templates:
        stripped = {}
        for logical_id, resource in json.loads(template.read_text()).get("Resources", {}).items():
            metadata = resource.get("Metadata") or {}
            if (metadata.get("checkov") or {}).get("skip"):
                stripped[logical_id] = {**resource, "Metadata": {k: v for k, v in metadata.items() if k != "checkov"}}
        if stripped:
            copy = scratch / f"recheck-{len(copies)}.template.json"
            copy.write_text(json.dumps({"Resources": stripped}))
            copies[copy] = str(template.relative_to(outdir))
    return copies


def split_rechecks(report: dict[str, Any], copies: Mapping[Path, str]) -> dict[tuple[str, str, str], str]:
    """Remove the copies' results from ``report``; return (template, logical id, check) -> "passed" or
    "failed" for them, keyed like the real templates' results."""
    originals = {copy.name: original for copy, original in copies.items()}
    outcomes = {}
    for kind in RESULT_KINDS:
        kept = []
        for item in report["results"][kind]:
            original = originals.get(Path(str(item.get("file_path", ""))).name)
            if original is None:
                kept.append(item)
                continue
            logical_id = str(item.get("resource", "")).split(".", 1)[-1]
            outcomes[(original, logical_id, str(item.get("check_id")))] = kind.removesuffix("_checks")
        report["results"][kind] = kept
    return outcomes


def relative_file_paths(report: dict[str, Any], outdir: Path) -> dict[str, Any]:
    """checkov names files relative to its working directory; findings name them relative to ``outdir``."""
    base = outdir.resolve()
    for kind in RESULT_KINDS:
        for item in report["results"][kind]:
            location = (ROOT / str(item.get("file_path", "")).lstrip("/")).resolve()
            if location.is_relative_to(base):
                item["file_path"] = str(location.relative_to(base))
    return report


def merge(documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One report from several: results concatenated, counts summed (empty scans carry only a summary)."""
    results: dict[str, list[Any]] = {kind: [] for kind in (*RESULT_KINDS, "parsing_errors")}
    summary: Counter[str] = Counter()
    version = None
    for document in documents:
        for kind in results:
            results[kind].extend(document.get("results", {}).get(kind, []))
        for key, value in document.get("summary", {}).items():
            if isinstance(value, int):
                summary[key] += value
        version = document.get("summary", {}).get("checkov_version", version)
    return {"check_type": "cloudformation", "results": results, "summary": {**summary, "checkov_version": version}}


def _where(item: Mapping[str, Any], paths: Mapping[tuple[str, str], str]) -> str:
    file_path = str(item.get("file_path", "?"))
    logical_id = str(item.get("resource", "?")).split(".", 1)[-1]
    construct = paths.get((file_path.lstrip("/"), logical_id))
    return f"{construct or logical_id} ({file_path.lstrip('/')}:{logical_id})"


def construct_paths(outdir: Path) -> dict[tuple[str, str], str]:
    """(template path relative to ``outdir``, logical id) -> CDK construct path, for findings people can act on."""
    found = {}
    for template in templates_under(outdir):
        resources = json.loads(template.read_text()).get("Resources", {})
        relative = str(template.relative_to(outdir))
        for logical_id, resource in resources.items():
            path = (resource.get("Metadata") or {}).get("aws:cdk:path")
            if path:
                found[(relative, logical_id)] = path
    return found


def _skip_problem(item: Mapping[str, Any], registry: Registry, paths: Mapping[tuple[str, str], str],
                  recheck: Mapping[tuple[str, str, str], str]) -> str | None:
    """Why a skip is not acceptable, or None. The marker must name an entry that grants this check, the
    resource must lie on that entry's paths in an environment it covers (a copied comment proves nothing),
    and the check must still fail on the resource without the skip."""
    check_id = str(item.get("check_id"))
    file_path, logical_id = str(item.get("file_path", "")).lstrip("/"), str(item.get("resource", "")).split(".", 1)[-1]
    comment = str((item.get("check_result") or {}).get("suppress_comment", ""))
    marker = _ACK_MARKER.search(comment)
    entry = next((e for e in registry.entries if marker and e.id == marker["id"]), None)
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
        marker = _ACK_MARKER.search(str((item.get("check_result") or {}).get("suppress_comment", "")))
        if marker:
            used.add((marker["id"], str(item.get("check_id"))))
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
    state = {0: "PASS", 1: "FAIL", 2: "INCONCLUSIVE"}[verdict.exit_code]
    loaded = len(custom_ids) - len(verdict.missing_custom)
    return (
        f"checkov: {state}: {verdict.templates} templates, {counts.get('resource_count', 0)} resources, "
        f"{counts.get('passed', 0)} passed, {counts.get('failed', 0)} failed, "
        f"{counts.get('skipped', 0)} skipped ({len(verdict.skip_problems)} skip problems), "
        f"custom checks with results {loaded}/{len(custom_ids)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aspects.checkov_gate", description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?", type=Path, default=Path("cdk.out"), help="the cloud assembly")
    outdir = parser.parse_args(argv).outdir
    # A result from an earlier run must not outlive a run that could not judge: the evidence would read it.
    (outdir / RESULT_FILE).unlink(missing_ok=True)
    templates = [t.resolve() for t in templates_under(outdir)]
    if not templates:
        print(f"checkov: INCONCLUSIVE: no templates under {outdir}; run the synth first", file=sys.stderr)
        return 2
    try:
        verify(outdir)
    except CustodyBroken as error:
        print(f"checkov: INCONCLUSIVE: {error}", file=sys.stderr)
        return 2
    checkov = Path(os.environ.get("CHECKOV", DEFAULT_CHECKOV))
    processes = os.cpu_count() or 1
    try:
        registry = load_registry()
        with tempfile.TemporaryDirectory() as scratch:
            copies = skipped_resources(templates, outdir.resolve(), Path(scratch))
            copied = sum(len(json.loads(copy.read_text())["Resources"]) for copy in copies)
            scan = run_checkov(checkov, shards([*templates, *copies], processes))
    except (CheckovUnavailable, RegistryError) as error:
        print(f"checkov: INCONCLUSIVE: {error}", file=sys.stderr)
        return 2
    report = merge(scan.documents)
    recheck = split_rechecks(report, copies)
    # The copies are the gate's own probe, not part of the infrastructure: counts cover the real templates only.
    report["summary"].update({kind.removesuffix("_checks"): len(report["results"][kind]) for kind in RESULT_KINDS})
    report["summary"]["resource_count"] = report["summary"].get("resource_count", 0) - copied
    report = relative_file_paths(report, outdir)
    custom_ids = custom_check_ids()
    verdict = judge(report, registry, templates=len(templates), custom_ids=custom_ids,
                    paths=construct_paths(outdir), recheck=recheck, check_errors=scan.check_errors)
    problems = verdict.failures + verdict.skip_problems + [
        f"custom check {check} produced no result: it failed to load or matched nothing"
        for check in verdict.missing_custom
    ] + [f"could not judge: {error}" for error in verdict.parsing_errors]
    for line in problems:
        print(f"checkov: {line}", file=sys.stderr)
    line = summary_line(verdict, custom_ids)
    # The evidence generator reads the gate's own verdict too: a scan can be clean and the gate still fail.
    report["gate"] = {"exit_code": verdict.exit_code, "summary": line, "problems": problems}
    report[SEAL_KEY] = seal(outdir)  # which synthesis this judged (the evidence compares)
    (outdir / RESULT_FILE).write_text(json.dumps(report, indent=1))
    print(line)
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
