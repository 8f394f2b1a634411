"""Whether a registry skip still excuses anything: checkov never evaluates a skipped check, so the gate scans copies
of the skipped resources without their skips beside the real templates, and splits their results back out."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gates.checkov.run import RESULT_KINDS


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
