"""Chain of custody from the synth gate to the evidence: the later gates judge only what the guards judged.

The synth gate writes ``cdk.out/custody.json``, the sha256 of every template it judged and of the reports it
wrote (validation report, guards), with the commit. cfn-lint, checkov and the evidence generator check every file
against it before they read any, and refuse (exit 2, naming the file) a template edited, added or removed since,
so a change made in ``cdk.out/`` between two gates cannot pass as judged. Anyone able to rewrite ``cdk.out/``
can also rewrite this file; what it proves is that the later gates saw what synth saw, not who ran synth
(docs/compliance.md, what the gates resist).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path

from aspects.assembly import templates_under

CUSTODY_FILE = "custody.json"
# Besides the templates: what the synth gate itself wrote and the evidence reads.
JUDGED_REPORTS = ("validation-report.json", "guards.json")


class CustodyBroken(ValueError):
    """A file differs from what the synth gate judged, or the record of it is missing; the message names it."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_commit() -> str:
    """HEAD, marked when the working tree differs from it."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{sha}+uncommitted-changes" if dirty.strip() else sha


def _judged_files(outdir: Path) -> list[Path]:
    return templates_under(outdir) + [outdir / name for name in JUDGED_REPORTS if (outdir / name).is_file()]


def record(outdir: Path, commit: str) -> dict[str, str]:
    """Write the digests of everything the synth gate judged in ``outdir``; returns them by relative path."""
    digests = {path.relative_to(outdir).as_posix(): sha256(path) for path in _judged_files(outdir)}
    (outdir / CUSTODY_FILE).write_text(json.dumps({"commit": commit, "sha256": digests}, indent=1))
    return digests


def recorded(outdir: Path) -> Mapping[str, str]:
    """The digests synth recorded. :raise CustodyBroken: no record, or not one synth wrote."""
    path = outdir / CUSTODY_FILE
    try:
        document = json.loads(path.read_text())
        digests = document["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CustodyBroken(f"{path}: no record of what synth judged ({error}); run make synth") from None
    if not isinstance(digests, dict) or not digests:
        raise CustodyBroken(f"{path}: records no files; run make synth")
    return digests


def verify(outdir: Path) -> Mapping[str, str]:
    """The recorded digests, after checking every judged file against them.

    :raise CustodyBroken: a recorded file is missing or differs, or a template synth did not judge is present.
    """
    digests = recorded(outdir)
    for relative, digest in sorted(digests.items()):
        path = outdir / relative
        if not path.is_file():
            raise CustodyBroken(f"{path}: judged by synth but missing now; run make synth")
        if sha256(path) != digest:
            raise CustodyBroken(f"{path}: changed since synth judged it (sha256 differs); run make synth")
    for path in _judged_files(outdir):
        if path.relative_to(outdir).as_posix() not in digests:
            raise CustodyBroken(f"{path}: not judged by synth; run make synth")
    return digests
