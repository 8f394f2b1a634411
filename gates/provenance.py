"""Where a gate's result came from: the commit it judged and when, in a sidecar ``<result>.provenance.json``.

A release bundle must be made of results of the commit it releases, recent enough to mean something
(``python -m reports --release``): the test run, the drills, the load and image gates write a sidecar beside their
result; the templates' sources take theirs from the synth gate's custody record. A file another tool writes (Trivy's
SBOM) gets its sidecar from ``python -m gates.provenance FILE...``, run by the job that produced it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gates.custody import current_commit, sha256
from gates.verdict import Verdict

SUFFIX = ".provenance.json"


@dataclass(frozen=True)
class Provenance:
    commit: str
    produced_at: dt.datetime  # always timezone-aware


def is_release_commit(commit: str) -> bool:
    """A commit a release can be made of: a bare sha, not a dirty tree (two dirty trees of one HEAD would look
    alike) nor "unknown" (which would equal any other unknown)."""
    return bool(commit) and "+" not in commit and not commit.startswith("unknown")


def sidecar(result: Path) -> Path:
    return result.with_name(result.name + SUFFIX)


def discard(result: Path) -> None:
    """A result and its sidecar gone: a run that could not judge leaves no earlier verdict behind."""
    result.unlink(missing_ok=True)
    sidecar(result).unlink(missing_ok=True)


def write(result: Path, *, commit: str | None = None, at: dt.datetime | None = None) -> None:
    """The sidecar, with the result's sha256: a result replaced after its sidecar was written has none."""
    produced = at or dt.datetime.now(dt.UTC)
    document = {"commit": commit or current_commit(), "produced_at": produced.isoformat(timespec="seconds"),
                "sha256": sha256(result)}
    sidecar(result).write_text(json.dumps(document, indent=1) + "\n")


def read(result: Path) -> Provenance | None:
    """The sidecar's record, or None (no provenance is never fresh) when there is none, it is unreadable, its
    time has no timezone, or the result is not the file it was written for."""
    try:
        document = json.loads(sidecar(result).read_text())
        produced = dt.datetime.fromisoformat(document["produced_at"])
        if produced.tzinfo is None or document["sha256"] != sha256(result):
            return None
        return Provenance(str(document["commit"]), produced)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main(argv: Sequence[str] | None = None) -> Verdict:
    parser = argparse.ArgumentParser(prog="python -m gates.provenance",
                                     description="write <file>.provenance.json (this commit, now) beside each file")
    parser.add_argument("files", nargs="+", type=Path)
    files = parser.parse_args(argv).files
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        print(f"provenance: error: not a file: {', '.join(missing)}", file=sys.stderr)
        return Verdict.INCONCLUSIVE
    for path in files:
        write(path)
    print(f"provenance: {len(files)} sidecars written ({current_commit()[:12]})")
    return Verdict.PASS


if __name__ == "__main__":
    sys.exit(main())
