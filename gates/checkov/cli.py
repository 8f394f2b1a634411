"""``python -m gates.checkov [cdk.out]``: the checkov gate's command line (the package's docstring says what it
judges)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from gates.assembly import CHECKOV_RESULT, shards, templates_under
from gates.checkov.judge import construct_paths, judge, summary_line
from gates.checkov.recheck import skipped_resources, split_rechecks
from gates.checkov.run import (
    DEFAULT_CHECKOV,
    RESULT_KINDS,
    CheckovUnavailable,
    custom_check_ids,
    merge,
    relative_file_paths,
    run_checkov,
)
from gates.custody import SEAL_KEY, CustodyBroken, seal, verify
from policies.acknowledgments import RegistryError, load_registry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gates.checkov",
                                     description="checkov over every synthesized template, with our own policies")
    parser.add_argument("outdir", nargs="?", type=Path, default=Path("cdk.out"), help="the cloud assembly")
    outdir = parser.parse_args(argv).outdir
    # A result from an earlier run must not outlive a run that could not judge: the evidence would read it.
    (outdir / CHECKOV_RESULT).unlink(missing_ok=True)
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
    (outdir / CHECKOV_RESULT).write_text(json.dumps(report, indent=1))
    print(line)
    return verdict.exit_code
