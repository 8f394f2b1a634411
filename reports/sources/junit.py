"""pytest's JUnit XML (``tests/out/junit.xml``, or a folder of them: CI's shards): one record per test case,
named ``module::test``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from reports.model import Collected, Record, Source, SourceRun, Status, Where, not_collected


def _status(case: ET.Element) -> Status:
    if case.find("failure") is not None or case.find("error") is not None:
        return Status.FAIL
    if case.find("skipped") is not None:
        return Status.INCONCLUSIVE
    return Status.PASS


def collect(path: Path) -> Collected:
    if not path.exists():
        return not_collected(Source.UNIT, f"{path} not found: run `make test`", (path,))
    files = tuple(sorted(path.glob("*.xml"))) if path.is_dir() else (path,)
    if not files:
        return not_collected(Source.UNIT, f"{path} holds no JUnit XML files", (path,))
    records = []
    for file in files:
        try:
            cases = list(ET.parse(file).getroot().iter("testcase"))
        except ET.ParseError as error:
            return not_collected(Source.UNIT, f"{file} is not JUnit XML: {error}", files)
        records += [
            Record(source=Source.UNIT, rule=f"{case.get('classname')}::{case.get('name')}", status=_status(case),
                   where=Where(resource=f"{case.get('classname')}::{case.get('name')}"),
                   detail={"seconds": round(float(case.get("time") or 0), 3)})
            for case in cases
        ]
    if not records:
        return not_collected(Source.UNIT, f"{path} holds no test cases", files)
    return Collected(run=SourceRun(source=Source.UNIT, collected=True, inputs=files), records=tuple(records))
