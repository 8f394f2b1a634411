"""The architecture diagram names exactly the stacks the code synthesizes, so it cannot silently go stale."""

from __future__ import annotations

import re
from pathlib import Path

ARCHITECTURE = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"
STACK_NAME = re.compile(r"records-ENV-[a-z]+-(?:use1|use2|global)")


def _diagram() -> str:
    text = ARCHITECTURE.read_text()
    (diagram,) = re.findall(r"```mermaid\n(.*?)```", text, flags=re.DOTALL)
    return diagram


def test_diagram_names_every_synthesized_stack_and_no_other(synthesized):
    stage = synthesized.stages["dev"]
    synthesized_names = {s.stack_name.replace("-dev-", "-ENV-") for s in stage.node.children
                         if hasattr(s, "stack_name")}
    assert synthesized_names == set(STACK_NAME.findall(_diagram()))


def test_runbook_named_by_an_acknowledgment_exists(registry):
    for entry in registry.entries:
        for path in re.findall(r"docs/[\w/.-]+\.md", entry.reason):
            assert (ARCHITECTURE.parent.parent / path).is_file(), f"{entry.id} cites missing {path}"
