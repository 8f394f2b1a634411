"""JUnit XML for CI dashboards: a suite per source, a case per record; not-collected sources are one skipped
case each, so a missing source is visible rather than an empty, green suite.

Written with ElementTree: junitparser appends cases one by one with a re-count each time, which took
3 s for 2,000 records; the format is three elements deep.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from reports.evidence import Evidence
from reports.model import Record, Status

_OUTCOME = {Status.FAIL: "failure", Status.INCONCLUSIVE: "error", Status.ACKNOWLEDGED: "skipped"}


def _case(suite: ET.Element, name: str, classname: str, outcome: str | None, message: str) -> str | None:
    case = ET.SubElement(suite, "testcase", name=name, classname=classname)
    if outcome:
        ET.SubElement(case, outcome, message=message)
    return outcome


def _message(record: Record) -> str:
    if record.status is Status.ACKNOWLEDGED:
        return f"acknowledged: {record.detail.get('reason', '')}"
    if record.status is Status.INCONCLUSIVE:
        return "inconclusive: no verdict could be reached"
    return record.title or record.rule


def write(evidence: Evidence, path: Path) -> Path:
    root = ET.Element("testsuites", name="evidence")
    for run in evidence.sources:
        suite = ET.SubElement(root, "testsuite", name=run.source.value)
        outcomes: Counter[str | None] = Counter()
        if not run.collected:
            outcomes[_case(suite, "collected", run.source.value, "skipped", f"not collected: {run.note}")] += 1
        for record in (r for r in evidence.records if r.source is run.source):
            outcome = _OUTCOME.get(record.status)
            outcomes[_case(suite, f"{record.rule} @ {record.where.label()}", record.source.value, outcome,
                           _message(record))] += 1
        suite.set("tests", str(sum(outcomes.values())))
        for outcome, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            suite.set(attribute, str(outcomes[outcome]))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
