#!/usr/bin/env python3
"""Synthesize every selected environment with its guards, then judge the validation report.

    python app.py                      all environments
    cdk synth -c env=staging           one environment (also: -c image_tag=<sha>, -c account.prod=<id>,
                                       -c registry=<proposed acknowledgments.yaml>)

Exit codes: 0 synthesized and compliant; 1 findings (violations, unused acknowledgments);
2 could not run (bad configuration, registry or SLO file).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from aspects.guard import GuardError, guard
from gates.custody import current_commit
from gates.suppressions import AssemblyUnreadable
from gates.synth import ReportMissing, announce, conclude
from gates.verdict import Verdict
from policies.acknowledgments import RegistryError, load_registry
from policies.slo import SloError, load_slo
from stacks.build import CDK_JSON, add_stages, new_app
from stacks.config import ConfigError, load_config

CONSTRUCT_VALIDATION_FAILED = "ValidationFailedWithErrors"


def _fail(message: str, code: int) -> int:
    print(f"synth: {message}", file=sys.stderr)
    return code


def main(*, context: dict[str, Any] | None = None, outdir: str | None = None) -> int:
    """Tests pass ``context`` and ``outdir``; the CLI passes them through the environment instead."""
    app = new_app(outdir=outdir, context=context)
    context = app.node.get_all_context()
    try:
        config = load_config(CDK_JSON, overrides=context)
        stages = add_stages(app, config, load_slo(), selector=context.get("env"), image_tag=context.get("image_tag"))
        # -c registry=<file> evaluates a proposed registry change before it replaces the committed one.
        registry = load_registry(Path(context["registry"])) if context.get("registry") else load_registry()
        result = guard(app, config, stages, registry=registry)
    except (ConfigError, SloError, RegistryError) as error:
        return _fail(f"error: {error}", Verdict.INCONCLUSIVE)
    except GuardError as error:
        for problem in error.problems:
            print(f"synth: {problem}", file=sys.stderr)
        return _fail(f"FAIL: {len(error.problems)} acknowledgment problem(s)", Verdict.FAIL)

    try:
        assembly = app.synth()
        outdir = assembly.directory
    except RuntimeError as error:
        if str(error).startswith(CONSTRUCT_VALIDATION_FAILED):
            # A construct's own validation (a resource the guards never judged): no report is written, the
            # error names the constructs.
            for line in str(error).splitlines()[1:]:
                print(f"synth: {line.strip()}", file=sys.stderr)
            return _fail("FAIL: construct validation failed", Verdict.FAIL)
        # The nag packs' failures raise here outside the CDK CLI; the report on disk says which.
        if "ValidationFailed" not in str(error):
            raise
        outdir = app.outdir
    try:
        verdict = conclude(Path(outdir), result, commit=current_commit())
    except ReportMissing as error:
        return _fail(f"error: no validation report to judge ({error})", Verdict.INCONCLUSIVE)
    except AssemblyUnreadable as error:
        return _fail(f"INCONCLUSIVE: the cloud assembly cannot be judged ({error})", Verdict.INCONCLUSIVE)

    return announce(verdict, [stage.node.id for stage in stages], Path(outdir))


if __name__ == "__main__":
    sys.exit(main())
