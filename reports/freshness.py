"""Freshness: the commit and time each source's input came from, and, for a release bundle, which are stale.

A release must be judged on results of the commit it releases, and recent ones: a test run of another commit, or a
drill from last quarter, proves nothing about this one. The test run, the drills and the load gate write a
provenance sidecar beside their result (``gates.provenance``); the sources read from ``cdk.out`` take the synth
gate's custody record. Outside a release the provenance is shown and nothing is judged stale.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from gates import provenance
from gates.assembly import CUSTODY_FILE
from gates.provenance import Provenance
from policies.catalog import Catalog
from reports.model import Source, SourceRun

RELEASE_MAX_AGE_DAYS = 30  # a release bundle's inputs are at most this old, or younger if a control asks for it
_FROM_SYNTH = (Source.NAG, Source.ASPECT, Source.CHECKOV, Source.CFN_LINT)


def _synth_provenance(cdk_out: Path) -> Provenance | None:
    path = cdk_out / CUSTODY_FILE
    try:
        commit = str(json.loads(path.read_text())["commit"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Provenance(commit, dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC))


def _oldest(results: Sequence[Path]) -> Provenance | None:
    """Of several result files (the unit shards), the one a release must doubt most: missing, or the oldest."""
    found = [provenance.read(result) for result in results]
    if not found or any(item is None for item in found):
        return None
    return min((item for item in found if item is not None), key=lambda item: item.produced_at)


def provenance_of(run: SourceRun, cdk_out: Path) -> Provenance | None:
    if run.source in _FROM_SYNTH:
        return _synth_provenance(cdk_out)
    results = [path for path in run.inputs if path.suffix in (".xml", ".json") and path.is_file()]
    return _oldest(results)


def release_max_age_days(catalogs: Mapping[str, Catalog]) -> int:
    """The age limit of a release's inputs: 30 days, or the strictest control's maximum evidence age if lower.

    One limit for every source rather than one per control: a source's records reach many controls, and a bundle
    whose input is too old for one of them must not pass that control on it.
    """
    return min([RELEASE_MAX_AGE_DAYS, *(control.max_evidence_age_days for catalog in catalogs.values()
                                        for control in catalog.controls)])


def staleness(found: Provenance | None, *, commit: str, now: dt.datetime, max_age_days: int) -> str:
    """Why a release may not use an input, or "" when it may."""
    if found is None:
        return "no provenance (commit and time) beside the result"
    if found.commit != commit:
        return f"from commit {found.commit[:12]}, not {commit[:12]}"
    if now - found.produced_at > dt.timedelta(days=max_age_days):
        return f"older than {max_age_days} days ({found.produced_at:%Y-%m-%d})"
    return ""


def stamped(runs: Sequence[SourceRun], cdk_out: Path, *, commit: str, now: dt.datetime,
            release: bool, max_age_days: int = RELEASE_MAX_AGE_DAYS) -> list[SourceRun]:
    """Each collected run with its input's commit and time, and, in a release, why it is stale."""
    stamped_runs = []
    for run in runs:
        if not run.collected:
            stamped_runs.append(run)
            continue
        found = provenance_of(run, cdk_out)
        stale = staleness(found, commit=commit, now=now, max_age_days=max_age_days) if release else ""
        stamped_runs.append(run.model_copy(update={
            "commit": found.commit if found else "", "stale": stale,
            "produced_at": found.produced_at.isoformat(timespec="seconds") if found else ""}))
    return stamped_runs
