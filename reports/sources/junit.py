"""pytest's JUnit XML (``tests/out/junit.xml``): one record per test case, named ``module::test``."""

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
    try:
        cases = ET.parse(path).getroot().iter("testcase")
        records = [
            Record(source=Source.UNIT, rule=f"{case.get('classname')}::{case.get('name')}", status=_status(case),
                   where=Where(resource=f"{case.get('classname')}::{case.get('name')}"),
                   detail={"seconds": round(float(case.get("time") or 0), 3)})
            for case in cases
        ]
    except ET.ParseError as error:
        return not_collected(Source.UNIT, f"{path} is not JUnit XML: {error}", (path,))
    if not records:
        return not_collected(Source.UNIT, f"{path} holds no test cases", (path,))
    return Collected(run=SourceRun(source=Source.UNIT, collected=True, inputs=(path,)), records=tuple(records))
