"""Chain of custody from the synth gate to the evidence and the deployment: later steps use only what synth judged.

    python -m gates.custody [cdk.out]     exit 0 every file is what synth judged and passed; 2 otherwise

The synth gate writes ``cdk.out/custody.json``: the sha256 of every file it left in ``cdk.out`` (templates,
manifests, construct metadata, assets, its validation report and guards record), the commit, and whether the
guards passed. cfn-lint, checkov, the evidence generator and the deployment check every file against it before
they read any, and refuse (exit 2, naming the file) a file edited, added or removed since, or a synthesis that
failed. cfn-lint and checkov stamp their results with the record's own digest (``seal``), so the evidence also
refuses results of another synthesis. Anyone able to rewrite ``cdk.out/`` can also rewrite this file; what it
proves is that each later step saw what synth judged, not who ran synth (docs/compliance.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gates.assembly import CFN_LINT_RESULT, CHECKOV_RESULT, CUSTODY_FILE, RESILIENCE_RESULT
from gates.verdict import Verdict

# What the later gates write into cdk.out themselves; everything else there is synth's.
LATER_RESULTS = (CFN_LINT_RESULT, CHECKOV_RESULT, RESILIENCE_RESULT)
SEAL_KEY = "custody"


class CustodyBroken(ValueError):
    """A file differs from what synth judged, synth failed, or the record is missing; the message says which."""


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


def _synth_files(outdir: Path) -> list[Path]:
    """Every file synth left, less the later gates' results and the CDK CLI's lock files (``synth.lock`` while the
    app runs, ``read.<pid>.lock`` while another command reads the assembly), which come and go by themselves."""
    skipped = {outdir / CUSTODY_FILE, *(outdir / name for name in LATER_RESULTS)}
    return sorted(path for path in outdir.rglob("*")
                  if path.is_file() and path not in skipped and path.suffix != ".lock")


def record(outdir: Path, commit: str, *, passed: bool, at: dt.datetime | None = None) -> dict[str, str]:
    """Write the digests of everything synth left in ``outdir``, its verdict and when (``at``, default now);
    returns the digests."""
    digests = {path.relative_to(outdir).as_posix(): sha256(path) for path in _synth_files(outdir)}
    # When: a release bundle may not use a synthesis older than its age limit (reports/freshness.py); the file's
    # mtime would not do, since copying an artifact resets it.
    produced_at = (at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    document = {"commit": commit, "produced_at": produced_at, "passed": passed, "sha256": digests}
    (outdir / CUSTODY_FILE).write_text(json.dumps(document, indent=1))
    return digests


def seal(outdir: Path) -> str:
    """The record's own digest: a later gate's result carries it, so the evidence can tell which synthesis it judged."""
    return sha256(outdir / CUSTODY_FILE)


def _recorded(outdir: Path, *, allow_failed: bool = False) -> Mapping[str, Any]:
    path = outdir / CUSTODY_FILE
    try:
        document = json.loads(path.read_text())
        digests = document["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CustodyBroken(f"{path}: no record of what synth judged ({error}); run make synth") from None
    if not isinstance(digests, dict) or not digests:
        raise CustodyBroken(f"{path}: records no files; run make synth")
    if document.get("passed") is not True and not allow_failed:
        raise CustodyBroken(f"{path}: synth failed on these templates; fix its findings and run make synth")
    return document


def verify(outdir: Path, *, allow_failed: bool = False) -> Mapping[str, str]:
    """The recorded digests, after checking every file synth left against them.

    ``allow_failed``: the evidence reports a failed synthesis (as a failing bundle) instead of refusing it; the
    other gates and the deployment never use one.

    :raise CustodyBroken: no record, a failed synth (unless allowed), or a file that is missing, differs or was
        never judged.
    """
    digests: Mapping[str, str] = _recorded(outdir, allow_failed=allow_failed)["sha256"]
    for relative, digest in sorted(digests.items()):
        path = outdir / relative
        if not path.is_file():
            raise CustodyBroken(f"{path}: judged by synth but missing now; run make synth")
        if sha256(path) != digest:
            raise CustodyBroken(f"{path}: changed since synth judged it (sha256 differs); run make synth")
    for path in _synth_files(outdir):
        if path.relative_to(outdir).as_posix() not in digests:
            raise CustodyBroken(f"{path}: not judged by synth; run make synth")
    return digests


def synth_passed(outdir: Path) -> bool:
    """Whether the synth gate passed the synthesis recorded in ``outdir`` (False without a record)."""
    try:
        return json.loads((outdir / CUSTODY_FILE).read_text()).get("passed") is True
    except (OSError, ValueError, AttributeError):
        return False


def verify_results(outdir: Path) -> None:
    """The later gates' results that are present were judged against this synthesis's record.

    :raise CustodyBroken: a result without the record's seal, or with another synthesis's.
    """
    current = seal(outdir)
    for name in LATER_RESULTS:
        path = outdir / name
        if not path.is_file():
            continue  # not run: the evidence reports the source as not collected
        try:
            result = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # unreadable: the evidence reports that source as not collected, never as a pass
        if not isinstance(result, dict) or result.get(SEAL_KEY) != current:
            raise CustodyBroken(f"{path}: judged another synthesis than {outdir / CUSTODY_FILE}; run the gate again")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gates.custody", description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?", type=Path, default=Path("cdk.out"), help="the cloud assembly")
    outdir = parser.parse_args(argv).outdir
    try:
        digests = verify(outdir)
    except CustodyBroken as error:
        print(f"custody: INCONCLUSIVE: {error}", file=sys.stderr)
        return Verdict.INCONCLUSIVE
    commit = _recorded(outdir)["commit"]
    print(f"custody: PASS: {len(digests)} files as synth judged them at {commit}")
    return Verdict.PASS


if __name__ == "__main__":
    sys.exit(main())
