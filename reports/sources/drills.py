"""DR drills: pytest-bdd's cucumber JSON (one record per scenario, rule = the feature file's stem) and the
drills' measurements (``features/out/measurements.json``: ``{"measurements": [{"feature", "scenario", "metric",
"observed", "threshold", "comparison", "unit", "verdict"}]}``), each measurement a record of its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports.model import Collected, Record, Source, SourceRun, Status, Where, not_collected

_VERDICTS = {"pass": Status.PASS, "fail": Status.FAIL, "inconclusive": Status.INCONCLUSIVE}


def _scenario_status(scenario: dict[str, Any]) -> Status:
    steps = [str(step.get("result", {}).get("status", "")) for step in scenario.get("steps", [])]
    if not steps:
        return Status.INCONCLUSIVE
    if "failed" in steps:
        return Status.FAIL
    return Status.PASS if all(s == "passed" for s in steps) else Status.INCONCLUSIVE


def collect(cucumber: Path, measurements: Path) -> Collected:
    if not cucumber.exists():
        note = f"{cucumber} not found: run `make drill`"
        return not_collected(Source.DRILL, note, (cucumber, measurements))
    records = []
    for feature in json.loads(cucumber.read_text()):
        stem = Path(str(feature.get("uri", feature.get("name", "")))).stem
        for scenario in feature.get("elements", []):
            # An outline's examples share a name; pytest-bdd's id carries their parameters ("...[v2-10,100]").
            example = str(scenario.get("id", "")).partition("[")[2].rstrip("]")
            name = f"{scenario.get('name', '')}{f' [{example}]' if example else ''}"
            records.append(Record(source=Source.DRILL, rule=stem, status=_scenario_status(scenario),
                                  where=Where(resource=name), title=str(feature.get("name", ""))))
    inputs = [cucumber]
    if measurements.exists():
        inputs.append(measurements)
        for item in json.loads(measurements.read_text()).get("measurements", []):
            records.append(Record(
                source=Source.DRILL, rule=f"{item['feature']}.{item['metric']}",
                status=_VERDICTS.get(str(item.get("verdict")), Status.INCONCLUSIVE),
                where=Where(resource=str(item.get("scenario", ""))),
                detail={k: item.get(k) for k in ("observed", "threshold", "comparison", "unit", "window")},
            ))
    if not records:
        return not_collected(Source.DRILL, f"{cucumber} holds no scenarios", tuple(inputs))
    return Collected(run=SourceRun(source=Source.DRILL, collected=True, inputs=tuple(inputs)), records=tuple(records))
