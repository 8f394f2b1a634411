"""The load gate's verdict (``load/out/gate.json``): one record per judged metric and endpoint."""

from __future__ import annotations

import json
from pathlib import Path

from reports.model import Collected, Record, Source, SourceRun, Status, Where, not_collected

_STATUS = {"pass": Status.PASS, "fail": Status.FAIL}


def collect(path: Path) -> Collected:
    if not path.exists():
        return not_collected(Source.LOAD, f"{path} not found: run `make load`", (path,))
    gate = json.loads(path.read_text())
    records = [
        Record(
            source=Source.LOAD, rule=str(metric["metric"]),
            status=_STATUS.get(str(metric.get("status")), Status.INCONCLUSIVE),
            where=Where(env=str(gate.get("environment", "")), resource=str(metric.get("endpoint", ""))),
            detail={"observed": metric.get("observed"), "threshold": metric.get("threshold"),
                    "comparison": metric.get("comparison"), "window_s": gate.get("window", {}).get("duration_s"),
                    "host": gate.get("host"), "note": metric.get("note", "")},
        )
        for metric in gate.get("metrics", [])
    ]
    if not records:
        return not_collected(Source.LOAD, f"{path} judged no metric (verdict {gate.get('verdict')})", (path,))
    # The gate's own verdict also covers what no single metric shows (an aborted run, too few requests).
    verdict = Status.INCONCLUSIVE if gate.get("aborted") else _STATUS.get(str(gate.get("verdict")), Status.INCONCLUSIVE)
    records.append(Record(source=Source.LOAD, rule="verdict", status=verdict,
                          where=Where(env=str(gate.get("environment", ""))),
                          detail={"reasons": gate.get("reasons", []), "aborted": bool(gate.get("aborted")),
                                  "host": gate.get("host")}))
    return Collected(run=SourceRun(source=Source.LOAD, collected=True, inputs=(path,)), records=tuple(records))
