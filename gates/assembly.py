"""The cloud assembly as the gates and the evidence read it: where its templates are, each resource with its
logical id and construct path, and the names of the files each gate writes beside them (writers and readers use
these constants, never their own spelling)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEMPLATE_SUFFIX = ".template.json"
REPORT_FILE = "validation-report.json"  # CDK's validation report, judged by gates.synth
GUARDS_FILE = "guards.json"  # the guards that ran and the findings each registry entry suppressed (gates.synth)
CUSTODY_FILE = "custody.json"  # what synth judged (gates.custody)
CFN_LINT_RESULT = "cfn-lint.json"  # gates.cfn_lint
CHECKOV_RESULT = "checkov.json"  # gates.checkov
RESILIENCE_RESULT = "resilience.json"  # gates.resilience
PATH_METADATA = "aws:cdk:path"


def templates_under(outdir: Path) -> list[Path]:
    return sorted(outdir.rglob(f"*{TEMPLATE_SUFFIX}"))


@dataclass(frozen=True)
class AssemblyResource:
    template: Path  # relative to the assembly's root
    logical_id: str
    construct_path: str | None  # from the resource's aws:cdk:path metadata
    body: Mapping[str, Any]


def resources(outdir: Path) -> Iterator[AssemblyResource]:
    """Every resource of every template under ``outdir``, in template order."""
    for template in templates_under(outdir):
        for logical_id, body in json.loads(template.read_text()).get("Resources", {}).items():
            path = (body.get("Metadata") or {}).get(PATH_METADATA)
            yield AssemblyResource(template.relative_to(outdir), logical_id, path, body)


def shards(templates: Sequence[Path], count: int) -> list[list[Path]]:
    """Templates split into ``count`` groups of similar total size: checkov and cfn-lint are single-threaded,
    and on two cores two processes halve the wall time (each pays its start-up and rule loading once)."""
    groups: list[list[Path]] = [[] for _ in range(max(1, min(count, len(templates))))]
    sizes = [0] * len(groups)
    for template in sorted(templates, key=lambda t: t.stat().st_size, reverse=True):
        smallest = sizes.index(min(sizes))
        groups[smallest].append(template)
        sizes[smallest] += template.stat().st_size
    return [g for g in groups if g]
