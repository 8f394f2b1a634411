"""What a change does to compliance: two evidence bundles (or their ``evidence.json``) compared.

    python -m reports diff BASE HEAD [--markdown FILE] [--json FILE]

Findings (failed or acknowledged records) are keyed by source, rule, environment and construct path: never by a
logical id, whose hash moves when a construct does, nor by a line number. The same finding in both regions is one
row naming both. The diff lists new and fixed findings with the controls their rule supports, acknowledgments added,
removed or expiring within 30 days, attestations added, removed or expiring, and each control whose status changed,
per framework. Exit 1 when a control regresses or a new unacknowledged finding appears; 0 otherwise; 2 when an input
cannot be read.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports.controls import matches
from reports.sources.stacks import region_free

EXPIRY_WINDOW_DAYS = 30
# Best first: a move to the right is a regression. Not-applicable sits with pass: nothing was there to judge.
STATUS_ORDER = ("pass", "not-applicable", "acknowledged", "needs-attestation", "stale", "not-collected",
                "inconclusive", "gap", "fail")
# Inconclusive too: a finding that turns inconclusive was not fixed, and no data never passes.
FINDING_STATUSES = ("fail", "inconclusive", "acknowledged")
_BLOCKING = ("fail", "inconclusive")


class DiffInputError(ValueError):
    """An input that is neither a bundle nor an evidence.json; the message names it."""


def load(path: Path) -> dict[str, Any]:
    """A bundle directory's ``evidence.json``, or the file itself."""
    file = path / "evidence.json" if path.is_dir() else path
    try:
        document = json.loads(file.read_text())
        if not isinstance(document, dict) or not {"records", "controls"} <= document.keys():
            raise ValueError("no records and controls")
        return document
    except (OSError, ValueError) as error:
        raise DiffInputError(f"{file}: not an evidence.json ({error})") from None


@dataclass(frozen=True, order=True)
class FindingKey:
    source: str
    rule: str
    env: str
    where: str  # the construct path with the region taken out of the stack's name; else the record's resource


@dataclass
class Finding:
    key: FindingKey
    status: str
    regions: set[str] = field(default_factory=set)
    acknowledgment: str = ""


def _where(record: Mapping[str, Any]) -> str:
    detail, where = record.get("detail") or {}, record.get("where") or {}
    path = str(detail.get("construct_path") or where.get("resource") or where.get("stack") or "")
    parts = path.split("/")
    if len(parts) > 1:
        parts[1] = region_free(parts[1], "-*")
    return "/".join(parts)


def findings(document: Mapping[str, Any]) -> dict[FindingKey, Finding]:
    found: dict[FindingKey, Finding] = {}
    for record in document["records"]:
        if record["status"] not in FINDING_STATUSES:
            continue
        where = record.get("where") or {}
        key = FindingKey(record["source"], record["rule"], str(where.get("env", "")), _where(record))
        finding = found.setdefault(key, Finding(key, record["status"]))
        if FINDING_STATUSES.index(record["status"]) < FINDING_STATUSES.index(finding.status):
            finding.status = record["status"]  # failing in one region is failing
        finding.regions.add(str(where.get("region") or "all"))
        finding.acknowledgment = finding.acknowledgment or str((record.get("detail") or {}).get("acknowledgment", ""))
    return found


def _controls_of(document: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(framework, control id, reference source, reference rule) for every reference of every control."""
    return [(c["framework"], c["id"], *ref["reference"].split(":", 1)) for c in document["controls"]
            for ref in c.get("references", []) if ":" in ref["reference"]]


@dataclass(frozen=True)
class Change:
    kind: str  # "new" / "fixed" / "now <status>" / "spread to <regions>" / "gone from <regions>"
    finding: Finding
    controls: tuple[str, ...]


@dataclass(frozen=True)
class ControlChange:
    framework: str
    id: str
    before: str
    after: str

    @property
    def regressed(self) -> bool:
        """Worse, or gone: a control removed from the head (or renamed with its framework) proves nothing now."""
        return self.after == REMOVED or (self.before != ADDED and _rank(self.after) > _rank(self.before))


ADDED, REMOVED = "absent", "removed"


def _rank(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


@dataclass(frozen=True)
class Diff:
    findings: tuple[Change, ...]
    controls: tuple[ControlChange, ...]
    acknowledgments: tuple[tuple[str, str, str], ...]  # (added / removed / expiring, id, detail)
    attestations: tuple[tuple[str, str, str], ...]
    # Sources collected in one bundle only: their findings are not compared (a source that did not run has not
    # fixed anything), and the controls that rest on them show it.
    uncompared: tuple[str, ...] = ()

    @property
    def new_unacknowledged(self) -> list[Change]:
        return [c for c in self.findings if c.finding.status in _BLOCKING
                and (c.kind == "new" or c.kind.startswith(("now ", "spread to ")))]

    @property
    def regressions(self) -> list[ControlChange]:
        return [c for c in self.controls if c.regressed]

    @property
    def empty(self) -> bool:
        """Nothing changed. Entries close to expiry are reported, but they are no change of this commit's."""
        listed = [row for row in (*self.acknowledgments, *self.attestations) if row[0] != "expiring"]
        return not (self.findings or self.controls or listed or self.uncompared)

    @property
    def lost_sources(self) -> list[str]:
        """Sources the base had and the head lacks: no regression can be ruled out for them."""
        return [source for source in self.uncompared if source.endswith("(base only)")]

    @property
    def exit_code(self) -> int:
        return 1 if self.new_unacknowledged or self.regressions or self.lost_sources else 0


def _supported(key: FindingKey, references: Iterable[tuple[str, str, str, str]]) -> tuple[str, ...]:
    return tuple(sorted({f"{framework} {cid}" for framework, cid, source, rule in references
                         if source == key.source and matches(rule, key.rule.split("[", 1)[0])}))


def _expiring(items: Iterable[Mapping[str, Any]], today: dt.date) -> list[Mapping[str, Any]]:
    horizon = today + dt.timedelta(days=EXPIRY_WINDOW_DAYS)
    return [item for item in items if today <= dt.date.fromisoformat(str(item["expires"])) <= horizon]


def _by_id(document: Mapping[str, Any], section: str) -> dict[str, Mapping[str, Any]]:
    return {str(item["id"]): item for item in document.get(section, [])}


# What the findings a run observed may change without the entry changing.
_OBSERVED = ("findings", "state")


def _listed(base: Mapping[str, Any], head: Mapping[str, Any], section: str, today: dt.date,
            describe: str) -> tuple[tuple[str, str, str], ...]:
    before, after = _by_id(base, section), _by_id(head, section)
    rows = [("added", i, describe.format(**after[i])) for i in sorted(after.keys() - before.keys())]
    rows += [("removed", i, describe.format(**before[i])) for i in sorted(before.keys() - after.keys())]
    for ident in sorted(before.keys() & after.keys()):  # edited in place: scope, owner, expiry, artifact...
        edited = [f"{name}: {before[ident].get(name)} → {after[ident].get(name)}"
                  for name in sorted(before[ident].keys() | after[ident].keys())
                  if name not in _OBSERVED and before[ident].get(name) != after[ident].get(name)]
        if edited:
            rows.append(("changed", ident, "; ".join(edited)))
    rows += [("expiring", str(item["id"]), f"expires {item['expires']}")
             for item in _expiring(after.values(), today)]
    return tuple(rows)


def _collected(document: Mapping[str, Any]) -> set[str]:
    return {str(run["source"]) for run in document.get("sources", []) if run.get("collected")}


def compare(base: Mapping[str, Any], head: Mapping[str, Any]) -> Diff:
    in_base, in_head = _collected(base), _collected(head)
    both = in_base & in_head
    before = {k: f for k, f in findings(base).items() if k.source in both}
    after = {k: f for k, f in findings(head).items() if k.source in both}
    references = _controls_of(head) + _controls_of(base)
    changes = []
    for key in sorted(after.keys() | before.keys()):
        old, new = before.get(key), after.get(key)
        if old is None or new is None:
            kind = "new" if old is None else "fixed"
        elif old.status != new.status:
            kind = f"now {new.status}"
        elif new.regions - old.regions:  # the same finding, now in another region too
            kind = f"spread to {', '.join(sorted(new.regions - old.regions))}"
        elif old.regions - new.regions:
            kind = f"gone from {', '.join(sorted(old.regions - new.regions))}"
        else:
            continue
        changes.append(Change(kind, new or old, _supported(key, references)))  # type: ignore[arg-type]
    before_status = {(c["framework"], c["id"]): c["status"] for c in base["controls"]}
    after_status = {(c["framework"], c["id"]): c["status"] for c in head["controls"]}
    controls = tuple(ControlChange(framework, cid, before_status.get((framework, cid), ADDED),
                                   after_status.get((framework, cid), REMOVED))
                     for framework, cid in sorted(before_status.keys() | after_status.keys())
                     if before_status.get((framework, cid)) != after_status.get((framework, cid)))
    today = dt.date.fromisoformat(str(head.get("generated_at", dt.date.today().isoformat()))[:10])
    return Diff(
        findings=tuple(changes), controls=controls,
        acknowledgments=_listed(base, head, "acknowledgments", today, "{owner}, until {expires}: {reason}"),
        attestations=_listed(base, head, "attestations", today, "{state}, until {expires}"),
        uncompared=tuple([f"{source} (base only)" for source in sorted(in_base - in_head)]
                         + [f"{source} (head only)" for source in sorted(in_head - in_base)]),
    )


def _status_cell(finding: Finding) -> str:
    """An acknowledged finding names the registry entry that accepts it."""
    entry = f" ({finding.acknowledgment})" if finding.status == "acknowledged" and finding.acknowledgment else ""
    return f"{finding.status}{_cell(entry)}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(diff: Diff, base: Mapping[str, Any], head: Mapping[str, Any]) -> str:
    title = (f"### Compliance diff: `{str(base.get('commit', '?'))[:12]}` → `{str(head.get('commit', '?'))[:12]}`")
    verdict = "no change" if diff.empty else ("**blocks**: " + ", ".join(filter(None, (
        f"{len(diff.new_unacknowledged)} new unacknowledged findings" if diff.new_unacknowledged else "",
        f"{len(diff.regressions)} controls regress" if diff.regressions else "",
        f"{len(diff.lost_sources)} sources not collected in head" if diff.lost_sources else "")))
        if diff.exit_code else "no regression")
    lines = [title, "", verdict, ""]
    if diff.uncompared:
        lines += [f"Not compared, collected in one bundle only: {', '.join(diff.uncompared)}.", ""]
    if diff.findings:
        lines += ["| change | status | source | rule | environment | construct | regions | controls |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {c.kind} | {_status_cell(c.finding)} | {c.finding.key.source} | `{_cell(c.finding.key.rule)}` | "
                  f"{c.finding.key.env} | `{_cell(c.finding.key.where)}` | {', '.join(sorted(c.finding.regions))} "
                  f"| {_cell(', '.join(c.controls)) or '-'} |" for c in diff.findings]
        lines.append("")
    if diff.controls:
        by_framework: dict[str, list[ControlChange]] = defaultdict(list)
        for change in diff.controls:
            by_framework[change.framework].append(change)
        lines += ["| framework | control | before | after | |", "|---|---|---|---|---|"]
        lines += [f"| {c.framework} | {c.id} | {c.before} | {c.after} | {'regressed' if c.regressed else ''} |"
                  for changes in by_framework.values() for c in changes]
        lines.append("")
    for name, rows in (("acknowledgment", diff.acknowledgments), ("attestation", diff.attestations)):
        if rows:
            lines += [f"| {name} | change | detail |", "|---|---|---|"]
            lines += [f"| {ident} | {kind} | {_cell(detail)} |" for kind, ident, detail in rows]
            lines.append("")
    return "\n".join(lines)


def to_json(diff: Diff) -> dict[str, Any]:
    return {
        "exit_code": diff.exit_code, "no_change": diff.empty,
        "findings": [{"change": c.kind, "status": c.finding.status, "source": c.finding.key.source,
                      "rule": c.finding.key.rule, "env": c.finding.key.env, "construct": c.finding.key.where,
                      "regions": sorted(c.finding.regions), "acknowledgment": c.finding.acknowledgment,
                      "controls": list(c.controls)} for c in diff.findings],
        "controls": [{"framework": c.framework, "id": c.id, "before": c.before, "after": c.after,
                      "regressed": c.regressed} for c in diff.controls],
        "acknowledgments": [{"change": k, "id": i, "detail": d} for k, i, d in diff.acknowledgments],
        "attestations": [{"change": k, "id": i, "detail": d} for k, i, d in diff.attestations],
        "uncompared_sources": list(diff.uncompared),
    }
