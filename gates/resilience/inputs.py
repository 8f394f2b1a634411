"""The files besides the templates a budget was computed from (the SLO, the estimates, the runbooks), with their
digests: the custody seal covers only what synth wrote, so a budget whose objectives or declared step durations
were edited after the gate ran must not reach the evidence as a pass."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gates.custody import sha256

SLO, ESTIMATES = "policies/slo.yaml", "policies/resilience.yaml"


def digests(root: Path, runbooks: tuple[str, ...]) -> dict[str, str]:
    """Repository-relative path -> sha256 of each input. :raise OSError: one is missing."""
    return {relative: sha256(root / relative) for relative in (SLO, ESTIMATES, *runbooks)}


def changed(recorded: Mapping[str, str], root: Path) -> list[str]:
    """The recorded inputs that differ now (or are gone); none recorded counts as changed: the result is not a
    budget this gate wrote."""
    if not recorded:
        return ["(no inputs recorded)"]
    return [relative for relative, digest in sorted(recorded.items())
            if not (root / relative).is_file() or sha256(root / relative) != digest]
