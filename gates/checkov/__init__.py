"""checkov over every synthesized template, with the project's own policies; any failed check fails.

    python -m gates.checkov [cdk.out]     exit 0 pass; 1 failed checks or skip problems; 2 could not judge

checkov runs from its own virtualenv (it pins an old boto3) with ``.checkov.yaml``. Skips are accepted only
when they come from the acknowledgment registry (the guards write them into ``Metadata.checkov.skip`` with
the entry's marker), and a registry skip that no longer skips anything is reported like an unused nag
acknowledgment. A custom check that produced no result at all did not load (checkov logs a broken check and
carries on), so the run is inconclusive rather than a pass. The merged result goes to ``cdk.out/checkov.json``
for the evidence generator.
"""

from gates.checkov.cli import main
from gates.checkov.judge import CheckovVerdict, judge, summary_line
from gates.checkov.recheck import skipped_resources, split_rechecks
from gates.checkov.run import (
    CONFIG_FILE,
    CUSTOM_CHECKS_DIR,
    DEFAULT_CHECKOV,
    ROOT,
    CheckovUnavailable,
    checked_config,
    custom_check_ids,
    merge,
    run_checkov,
)

__all__ = ["CONFIG_FILE", "CUSTOM_CHECKS_DIR", "DEFAULT_CHECKOV", "ROOT", "CheckovUnavailable", "CheckovVerdict",
           "checked_config", "custom_check_ids", "judge", "main", "merge", "run_checkov", "skipped_resources",
           "split_rechecks", "summary_line"]
