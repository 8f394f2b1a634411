"""Where a gate's result came from: the commit it judged and when, in a sidecar ``<result>.provenance.json``.

A release bundle must be made of results of the commit it releases, recent enough to mean something
(``python -m reports --release``): the test run, the drills and the load gate write a sidecar beside their result;
the templates' sources take theirs from the synth gate's custody record.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from gates.custody import current_commit

SUFFIX = ".provenance.json"


@dataclass(frozen=True)
class Provenance:
    commit: str
    produced_at: dt.datetime


def sidecar(result: Path) -> Path:
    return result.with_name(result.name + SUFFIX)


def write(result: Path, *, commit: str | None = None, at: dt.datetime | None = None) -> None:
    produced = at or dt.datetime.now(dt.UTC)
    document = {"commit": commit or current_commit(), "produced_at": produced.isoformat(timespec="seconds")}
    sidecar(result).write_text(json.dumps(document, indent=1) + "\n")


def read(result: Path) -> Provenance | None:
    """The sidecar's record, or None when there is none or it is unreadable (no provenance is never fresh)."""
    try:
        document = json.loads(sidecar(result).read_text())
        return Provenance(str(document["commit"]), dt.datetime.fromisoformat(document["produced_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
