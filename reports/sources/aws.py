"""What runs on AWS, as ``python -m reports collect --target aws`` read it back (reports/aws_collect.py): source
``config`` (the recorder, and every rule of the conformance packs and of the compliance stack) and source
``drift`` (every stack of the environment against its template).

Only COMPLIANT, and IN_SYNC as detected within DRIFT_CHECK_MAX_AGE before the collection, pass. NON_COMPLIANT and
DRIFTED fail, as does a recorder that does not record, fails, or records less than designed. A rule AWS Config
counts no resource for (NOT_APPLICABLE, set by the collector) gets no record. Anything else is inconclusive: no
data, a missing recorder, pack or rule, a stack never checked or checked too long ago.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from reports.model import Collected, Record, Source, SourceRun, Status, Where, not_collected

RECORDER_RULE, STACK_RULE = "recorder", "stack"  # beside the packs' "<pack>.<rule>" and the stack's own rules
CONFIG_STATUS = {"COMPLIANT": Status.PASS, "NON_COMPLIANT": Status.FAIL}
# The drift rule runs every 24 hours; a detection older than two runs means the rule has stopped.
DRIFT_CHECK_MAX_AGE = dt.timedelta(hours=48)


def _document(path: Path) -> dict[str, Any] | Collected:
    if not path.exists():
        return not_collected(Source.CONFIG, f"{path} not found: run `python -m reports collect --target aws --env "
                                            "<env>` with the environment's credentials", (path,))
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def collect(path: Path) -> tuple[Collected, Collected]:
    """(config, drift); neither is collected without the document, or when it holds no region."""
    document = _document(path)
    if isinstance(document, Collected):
        return document, not_collected(Source.DRIFT, document.run.note, (path,))
    env, regions = str(document["env"]), document["regions"]
    config = [record for region in regions for record in _config(env, region)]
    collected_at = dt.datetime.fromisoformat(document["collected_at"])
    drift = [record for region in regions for record in _drift(env, region, collected_at)]
    return _collected(Source.CONFIG, config, path), _collected(Source.DRIFT, drift, path)


def _collected(source: Source, records: list[Record], path: Path) -> Collected:
    if not records:
        return not_collected(source, f"{path} holds no region", (path,))
    return Collected(run=SourceRun(source=source, collected=True, inputs=(path,)), records=tuple(records))


def _config(env: str, region: dict[str, Any]) -> list[Record]:
    where = Where(env=env, region=region["region"])
    recorder = region.get("recorder")
    if recorder is None:
        status, title = Status.INCONCLUSIVE, "no AWS Config recorder: nothing in this region is evaluated"
    elif not recorder["recording"] or recorder.get("last_status") == "Failure":
        status = Status.FAIL
        title = f"the recorder is {'not recording' if not recorder['recording'] else 'failing'}: " \
                f"{recorder.get('last_error') or recorder.get('last_status')}"
    elif not recorder.get("records_as_designed"):
        status, title = Status.FAIL, "the recorder does not record every type (global ones in the primary only)"
    else:
        status, title = Status.PASS, "the recorder records every resource"
    records = [Record(source=Source.CONFIG, rule=RECORDER_RULE, where=where.model_copy(
        update={"resource": (recorder or {}).get("name", "")}), status=status, title=title,
        detail=dict(recorder or {}))]
    for rule in region["rules"]:
        if rule["compliance"] == "NOT_APPLICABLE":
            continue  # proven to have nothing to evaluate here, like a nag rule without resources: no record
        name = f"{rule['pack']}.{rule['rule']}" if rule["pack"] else rule["rule"]
        compliance = rule["compliance"]
        records.append(Record(
            source=Source.CONFIG, rule=name if rule["rule"] else f"{rule['pack']}.missing",
            where=where.model_copy(update={"resource": rule["rule"] or rule["pack"]}),
            status=CONFIG_STATUS.get(compliance, Status.INCONCLUSIVE),
            title=rule.get("note") or f"AWS Config: {compliance}", detail={"compliance": compliance}))
    return records


def _drift(env: str, region: dict[str, Any], collected_at: dt.datetime) -> list[Record]:
    where = Where(env=env, region=region["region"])
    if not region["stacks"]:
        return [Record(source=Source.DRIFT, rule=STACK_RULE, where=where, status=Status.INCONCLUSIVE,
                       title=f"no stack of {env} found in {region['region']}: nothing to compare")]
    return [_stack_drift(where.model_copy(update={"stack": stack["stack"]}), stack, collected_at)
            for stack in region["stacks"]]


def _stack_drift(where: Where, stack: dict[str, Any], collected_at: dt.datetime) -> Record:
    drift, checked = stack["drift"], stack.get("checked_at") or ""
    age = collected_at - dt.datetime.fromisoformat(checked) if checked else None
    if drift == "DRIFTED":
        status, title = Status.FAIL, f"drifted from its template (detected {checked})"
    elif drift == "IN_SYNC" and age is not None and age <= DRIFT_CHECK_MAX_AGE:
        status, title = Status.PASS, f"in sync with its template (detected {checked})"
    elif drift == "IN_SYNC":
        status, title = Status.INCONCLUSIVE, f"last found in sync {checked}, over {DRIFT_CHECK_MAX_AGE} before"
    else:
        status, title = Status.INCONCLUSIVE, f"drift {drift}: never detected, so not known"
    return Record(source=Source.DRIFT, rule=STACK_RULE, where=where, status=status, title=title,
                  detail={"drift": drift, "checked_at": checked, "resources": stack.get("resources", [])})
