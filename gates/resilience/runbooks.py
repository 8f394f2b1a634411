"""The manual steps of a recovery, from each runbook's own YAML front matter::

    ---
    recovery_steps:
      - step: confirm the primary is down
        seconds: 180
    ---

The runbook is where an operator reads the steps, so their declared durations live beside them; the budget
reads them from there and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from gates.resilience.model import Term


class RunbookError(ValueError):
    """A runbook is missing, or its front matter does not declare its steps' durations."""


@dataclass(frozen=True)
class Step:
    step: str
    seconds: float


def recovery_steps(path: Path) -> tuple[Step, ...]:
    """:raise RunbookError: no file, no front matter, or a step without a name or a non-negative duration."""
    try:
        text = path.read_text()
    except OSError as error:
        raise RunbookError(f"{path}: {error.strerror or error}") from None
    head, separator, _ = text.removeprefix("---\n").partition("\n---\n")
    if not text.startswith("---\n") or not separator:
        raise RunbookError(f"{path}: no front matter (--- recovery_steps: [{{step, seconds}}] ---)")
    try:
        document = yaml.safe_load(head)
    except yaml.YAMLError as error:
        raise RunbookError(f"{path}: front matter is not YAML: {error}") from None
    steps = document.get("recovery_steps") if isinstance(document, dict) else None
    if not isinstance(steps, list) or not steps:
        raise RunbookError(f"{path}: front matter declares no recovery_steps")
    found = []
    for number, item in enumerate(steps, 1):
        name = item.get("step") if isinstance(item, dict) else None
        seconds = item.get("seconds") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name.strip() or isinstance(seconds, bool) \
                or not isinstance(seconds, int | float) or seconds < 0:
            raise RunbookError(f"{path}: recovery_steps[{number}] needs a step name and seconds >= 0, got {item!r}")
        found.append(Step(name.strip(), float(seconds)))
    return tuple(found)


def runbook_term(root: Path, relative: str) -> Term:
    """One term per runbook: its steps' durations added up, each named in the basis."""
    steps = recovery_steps(root / relative)
    basis = " + ".join(f"{step.step} {step.seconds:g} s" for step in steps)
    return Term(f"runbook {Path(relative).name}", sum(step.seconds for step in steps), basis, "writes")
