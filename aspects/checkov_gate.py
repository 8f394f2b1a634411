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

from aspects.lint import templates_under
from policies.acknowledgments import Registry, RegistryError, load_registry

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / ".checkov.yaml"
CUSTOM_CHECKS_DIR = ROOT / "policies" / "checkov"
DEFAULT_CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
RESULT_FILE = "checkov.json"
RESULT_KINDS = ("passed_checks", "failed_checks", "skipped_checks")
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


def shards(templates: Sequence[Path], count: int) -> list[list[Path]]:
    """Templates split into ``count`` groups of similar total size: checkov is single-threaded, and on two
    cores two processes halve the wall time (its ~4 s start-up is paid once per process)."""
    groups: list[list[Path]] = [[] for _ in range(max(1, min(count, len(templates))))]
    sizes = [0] * len(groups)
    for template in sorted(templates, key=lambda t: t.stat().st_size, reverse=True):
        smallest = sizes.index(min(sizes))
        groups[smallest].append(template)
        sizes[smallest] += template.stat().st_size
    return [g for g in groups if g]


def _report_documents(stdout: str) -> list[Mapping[str, Any]]:
    document = json.loads(stdout)
    documents = document if isinstance(document, list) else [document]
    return [d for d in documents if isinstance(d, Mapping)]


def run_checkov(checkov: Path, templates: Sequence[Path], *, processes: int) -> list[Mapping[str, Any]]:
    """checkov's JSON reports, one per shard.

    :raise CheckovUnavailable: the executable is missing, or a run wrote no JSON report.
    """
    if not checkov.exists():
        raise CheckovUnavailable(f"{checkov} not found; run `make setup` (checkov lives in its own virtualenv)")

    def scan(group: list[Path]) -> list[Mapping[str, Any]]:
        command = [str(checkov), "--config-file", str(CONFIG_FILE), "-f", *map(str, group)]
        with tempfile.TemporaryDirectory() as home:
            # checkov writes caches under $HOME; a private one keeps parallel runs from sharing them.
            environment = {**os.environ, "HOME": home, "LOG_LEVEL": "WARNING"}
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environment, check=False)
        try:
            return _report_documents(done.stdout)
        except json.JSONDecodeError:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise CheckovUnavailable(f"checkov exited {done.returncode} without a JSON report: {tail}") from None

    with ThreadPoolExecutor(max_workers=processes) as pool:
        return [doc for docs in pool.map(scan, shards(templates, processes)) for doc in docs]


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


def judge(
    report: Mapping[str, Any],
    registry: Registry,
    *,
    templates: int,
    custom_ids: Sequence[str],
    paths: Mapping[tuple[str, str], str] | None = None,
) -> CheckovVerdict:
    """Failed checks, skips that did not come from the registry, registry skips that skipped nothing, and
    custom checks that produced no result."""
    paths = paths or {}
    results = report.get("results", {})
    failures = [
        f"{item.get('check_id')} at {_where(item, paths)}: {item.get('check_name')}"
        for item in results.get("failed_checks", [])
    ]
    granted = {(entry.id, check) for entry in registry.entries for check in entry.checkov_checks}
    used: set[tuple[str, str]] = set()
    skip_problems = []
    for item in results.get("skipped_checks", []):
        check_id = str(item.get("check_id"))
        comment = str((item.get("check_result") or {}).get("suppress_comment", ""))
        marker = _ACK_MARKER.search(comment)
        if marker and (marker["id"], check_id) in granted:
            used.add((marker["id"], check_id))
            continue
        skip_problems.append(
            f"{check_id} skipped at {_where(item, paths)} without a registry entry that grants it; "
            "add the exception to policies/acknowledgments.yaml (rules: [checkov::"
            f"{check_id}]) instead of an inline skip"
        )
    for entry_id, check_id in sorted(granted - used):
        skip_problems.append(
            f"acknowledgment '{entry_id}' rule checkov::{check_id} skipped nothing; the check passes or does not "
            "apply there, so remove the rule from the entry"
        )
    seen = {str(item.get("check_id")) for kind in RESULT_KINDS for item in results.get(kind, [])}
    return CheckovVerdict(
        templates=templates,
        summary={k: v for k, v in report.get("summary", {}).items() if isinstance(v, int)},
        failures=failures,
        skip_problems=skip_problems,
        missing_custom=[check for check in custom_ids if check not in seen],
        parsing_errors=[str(p) for p in results.get("parsing_errors", [])],
    )


def summary_line(verdict: CheckovVerdict, custom_ids: Sequence[str]) -> str:
    counts = verdict.summary
    state = {0: "PASS", 1: "FAIL", 2: "INCONCLUSIVE"}[verdict.exit_code]
    loaded = len(custom_ids) - len(verdict.missing_custom)
    return (
        f"checkov: {state}: {verdict.templates} templates, {counts.get('resource_count', 0)} resources, "
        f"{counts.get('passed', 0)} passed, {counts.get('failed', 0)} failed, "
        f"{counts.get('skipped', 0)} skipped by the registry, custom checks with results {loaded}/{len(custom_ids)}"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    outdir = Path(args[0] if args else "cdk.out")
    templates = [t.resolve() for t in templates_under(outdir)]
    if not templates:
        print(f"checkov: INCONCLUSIVE: no templates under {outdir}; run the synth first", file=sys.stderr)
        return 2
    checkov = Path(os.environ.get("CHECKOV", DEFAULT_CHECKOV))
    try:
        registry = load_registry()
        documents = run_checkov(checkov, templates, processes=os.cpu_count() or 1)
    except (CheckovUnavailable, RegistryError) as error:
        print(f"checkov: INCONCLUSIVE: {error}", file=sys.stderr)
        return 2
    report = relative_file_paths(merge(documents), outdir)
    (outdir / RESULT_FILE).write_text(json.dumps(report, indent=1))
    custom_ids = custom_check_ids()
    verdict = judge(report, registry, templates=len(templates), custom_ids=custom_ids,
                    paths=construct_paths(outdir))
    for line in verdict.failures + verdict.skip_problems:
        print(f"checkov: {line}", file=sys.stderr)
    for check in verdict.missing_custom:
        print(f"checkov: custom check {check} produced no result: it failed to load or matched nothing",
              file=sys.stderr)
    for error in verdict.parsing_errors:
        print(f"checkov: could not parse {error}", file=sys.stderr)
    print(summary_line(verdict, custom_ids))
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
