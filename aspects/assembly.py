"""The synthesized templates as the file gates see them: where they are, and how to split them over processes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def templates_under(outdir: Path) -> list[Path]:
    return sorted(outdir.rglob("*.template.json"))


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
