"""cfn-lint over every synthesized template: errors fail, warnings are counted and shown.

    python -m gates.cfn_lint [cdk.out]      exit 0 no errors; 1 errors; 2 no templates to lint

The findings also go to ``cdk.out/cfn-lint.json`` for the evidence generator.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gates.assembly import CFN_LINT_RESULT, shards, templates_under
from gates.custody import SEAL_KEY, CustodyBroken, seal, verify
from gates.verdict import Verdict
from stacks.config import CDK_JSON, load_config


@dataclass(frozen=True)
class LintFinding:
    rule_id: str
    template: str
    line: int
    message: str

    @property
    def is_error(self) -> bool:
        return self.rule_id.startswith("E")


@dataclass(frozen=True)
class LintResult:
    templates: int
    findings: list[LintFinding] = field(default_factory=list)

    @property
    def errors(self) -> list[LintFinding]:
        return [f for f in self.findings if f.is_error]


RESULT_FILE = CFN_LINT_RESULT


def _lint(templates: list[str], regions: list[str]) -> list[LintFinding]:
    """One cfn-lint run over ``templates`` (one rule set load, not one per file) against every deployed region."""
    # cfn-lint (with sympy) takes a second to import: only a run that lints pays it.
    from cfnlint.api import ManualArgs, lint_by_config

    matches = lint_by_config(ManualArgs(templates=templates, regions=regions))
    return [LintFinding(rule_id=m.rule.id, template=str(m.filename), line=m.linenumber, message=m.message)
            for m in matches]


def lint_templates(templates: list[Path], regions: list[str], processes: int | None = None) -> LintResult:
    """All templates, split by size over one forked process per core: cfn-lint is single-threaded."""
    groups = shards(templates, processes or os.cpu_count() or 1)
    if len(groups) == 1:
        findings = _lint([str(t) for t in groups[0]], regions)
    else:
        with ProcessPoolExecutor(len(groups), mp_context=multiprocessing.get_context("fork")) as pool:
            runs = [pool.submit(_lint, [str(t) for t in group], regions) for group in groups]
            findings = [finding for run in runs for finding in run.result()]
    return LintResult(templates=len(templates), findings=findings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gates.cfn_lint", description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?", type=Path, default=Path("cdk.out"), help="the cloud assembly")
    outdir = parser.parse_args(argv).outdir
    templates = templates_under(outdir)
    if not templates:
        print(f"cfn-lint: INCONCLUSIVE: no templates under {outdir}; run the synth first", file=sys.stderr)
        return Verdict.INCONCLUSIVE
    try:
        verify(outdir)
    except CustodyBroken as error:
        print(f"cfn-lint: INCONCLUSIVE: {error}", file=sys.stderr)
        return Verdict.INCONCLUSIVE
    project = load_config(CDK_JSON).project
    result = lint_templates(templates, [project.primary_region, project.secondary_region])
    findings = [{**asdict(f), "template": str(Path(f.template).resolve().relative_to(outdir.resolve()))}
                for f in result.findings]
    (outdir / RESULT_FILE).write_text(json.dumps({"templates": result.templates, "findings": findings,
                                                  SEAL_KEY: seal(outdir)}, indent=1))
    for finding in result.errors:
        print(f"cfn-lint: {finding.rule_id} {finding.template}:{finding.line} {finding.message}", file=sys.stderr)
    warnings = Counter(f.rule_id for f in result.findings if not f.is_error)
    shown = ", ".join(f"{rule} x{count}" for rule, count in sorted(warnings.items())) or "none"
    verdict = Verdict.of(failed=bool(result.errors), judged=True)
    print(f"cfn-lint: {verdict.name}: {result.templates} templates, {len(result.errors)} errors, warnings: {shown}")
    return verdict


if __name__ == "__main__":
    sys.exit(main())
