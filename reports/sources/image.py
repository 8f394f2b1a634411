"""The image gate's verdict (``image/image-gate.json``, written by ``python -m gates.image --out``): one record for
the verdict with its counts by severity, and one per HIGH/CRITICAL finding, blocking (fail) or accepted by the
exception registry (acknowledged, with the entry, its owner and review date). MEDIUM and LOW findings are counted,
not judged: the gate does not block on them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gates.image import BLOCKING
from reports.model import Collected, Record, Source, SourceRun, Status, Where, not_collected

RULE = "vulnerabilities"  # the verdict; each judged finding is RULE[<vulnerability id>]
_VERDICT = {0: Status.PASS, 1: Status.FAIL}
_COMMAND = "python -m gates.image --out image/image-gate.json (CI's image job)"


def _finding(item: dict[str, Any], status: Status, env: str) -> Record:
    detail = {key: item.get(key, "") for key in ("severity", "installed", "fixed")}
    if status is Status.ACKNOWLEDGED:
        detail |= {key: str(item[key]) for key in ("acknowledgment", "owner", "expires")}
    return Record(source=Source.IMAGE, rule=f"{RULE}[{item['vulnerability']}]", status=status,
                  where=Where(env=env, resource=str(item["package"])), title=str(item.get("title", "")),
                  detail=detail)


def _inconsistency(gate: dict[str, Any], counts: dict[str, Any]) -> str:
    """Why the verdict does not follow from its own findings ("" when it does): the gate writes verdict, counts
    and findings together, so a file that disagrees with itself was not written by it as it stands."""
    blocking, acknowledged = gate.get("blocking", []), gate.get("acknowledged", [])
    judged = sum(int(counts.get(severity, 0)) for severity in BLOCKING)
    if judged != len(blocking) + len(acknowledged):
        return (f"{judged} HIGH/CRITICAL findings counted, but {len(blocking)} blocking and {len(acknowledged)} "
                "acknowledged listed")
    if gate.get("exit_code") != (1 if blocking else 0):
        return f"exit code {gate.get('exit_code')} with {len(blocking)} blocking findings"
    return ""


def collect(path: Path) -> Collected:
    if not path.exists():
        return not_collected(Source.IMAGE, f"{path} not found: run {_COMMAND}", (path,))
    gate = json.loads(path.read_text())
    env = str(gate.get("environment") or "")
    counts = gate["counts"]
    if not isinstance(counts, dict):
        raise TypeError(f"{path}: counts is {type(counts).__name__}, not severity -> count")
    code = gate.get("exit_code")
    problem = _inconsistency(gate, counts)
    verdict = Record(
        source=Source.IMAGE, rule=RULE, where=Where(env=env, resource=str(gate.get("artifact", ""))),
        status=(Status.INCONCLUSIVE if problem or not isinstance(code, int)
                else _VERDICT.get(code, Status.INCONCLUSIVE)),
        title=str(gate.get("summary", "no verdict")),
        detail={"scanner": gate.get("scanner"), "counts": counts, "expired_acknowledgments": gate.get("expired", []),
                **({"problem": problem} if problem else {})},
    )
    findings = [_finding(item, Status.FAIL, env) for item in gate.get("blocking", [])]
    findings += [_finding(item, Status.ACKNOWLEDGED, env) for item in gate.get("acknowledged", [])]
    return Collected(run=SourceRun(source=Source.IMAGE, collected=True, inputs=(path,)),
                     records=(verdict, *findings))
