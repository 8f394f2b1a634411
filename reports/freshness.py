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


class NotReleasable(ValueError):
    """A release bundle asked for where no single commit is being released (a dirty tree, or no git)."""


def release_commit(commit: str) -> str:
    """:raise NotReleasable: ``commit`` is not a clean commit every input could be compared with."""
    if not provenance.is_release_commit(commit):
        raise NotReleasable(f"a release bundle needs a clean commit, not {commit!r}: commit or stash your changes")
    return commit


RELEASE_MAX_AGE_DAYS = 30  # a release bundle's inputs are at most this old, or younger if a control asks for it
_FROM_SYNTH = (Source.NAG, Source.ASPECT, Source.CHECKOV, Source.CFN_LINT, Source.RESILIENCE)


def _synth_provenance(cdk_out: Path) -> Provenance | None:
    """From the synth gate's custody record (commit and time written at synth; sealed into the later results)."""
    try:
        document = json.loads((cdk_out / CUSTODY_FILE).read_text())
        produced = dt.datetime.fromisoformat(document["produced_at"])
        return Provenance(str(document["commit"]), produced) if produced.tzinfo else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def provenances(run: SourceRun, cdk_out: Path) -> list[Provenance | None]:
    """One per input file of the run (one for the templates' sources): every one must be fresh, not only one."""
    if run.source in _FROM_SYNTH:
        return [_synth_provenance(cdk_out)]
    results = [path for path in run.inputs if path.suffix in (".xml", ".json") and path.is_file()]
    return [provenance.read(result) for result in results] or [None]


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
        return "no provenance (commit, time and digest) beside the result, or the result changed since"
    if found.commit != commit:
        return f"from commit {found.commit[:12]}, not {commit[:12]}"
    if found.produced_at > now + dt.timedelta(minutes=5):  # clocks differ a little between CI machines
        return f"produced in the future ({found.produced_at:%Y-%m-%d %H:%M})"
    if now - found.produced_at > dt.timedelta(days=max_age_days):
        return f"older than {max_age_days} days ({found.produced_at:%Y-%m-%d})"
    return ""


def stamped(runs: Sequence[SourceRun], cdk_out: Path, *, commit: str, now: dt.datetime,
            release: bool, max_age_days: int = RELEASE_MAX_AGE_DAYS) -> list[SourceRun]:
    """Each collected run with its oldest input's commit and time, and, in a release, why it is stale (the first
    input that may not be used)."""
    stamped_runs = []
    for run in runs:
        if not run.collected:
            stamped_runs.append(run)
            continue
        found = provenances(run, cdk_out)
        reasons = [staleness(item, commit=commit, now=now, max_age_days=max_age_days) for item in found]
        known = [item for item in found if item is not None]
        oldest = min(known, key=lambda item: item.produced_at) if known else None
        stamped_runs.append(run.model_copy(update={
            "commit": ", ".join(sorted({item.commit for item in known})),
            "produced_at": oldest.produced_at.isoformat(timespec="seconds") if oldest else "",
            "stale": next((reason for reason in reasons if reason), "") if release else ""}))
    return stamped_runs
