"""The project's validating aspects (Guard-*): ``cdk.out/guards.json`` lists the rules that ran in each
environment; an error of a rule in the validation report fails it there, otherwise it passed."""

from __future__ import annotations

import json
import re
from pathlib import Path

from gates.assembly import GUARDS_FILE, REPORT_FILE
from reports.model import Collected, Record, Source, SourceRun, Status, Where, not_collected

GUARDS = GUARDS_FILE
_RULE_TAG = re.compile(r"^\[(?P<rule>Guard-[A-Za-z]+)\]")


def collect(outdir: Path) -> Collected:
    guards, report_path = outdir / GUARDS, outdir / REPORT_FILE
    if not guards.exists() or not report_path.exists():
        return not_collected(Source.ASPECT, f"{guards} or {report_path} not found: run the synth", (guards,))
    ran = json.loads(guards.read_text())["environments"]
    errors: dict[tuple[str, str], list[str]] = {}
    for plugin in json.loads(report_path.read_text()).get("pluginReports", []):
        for finding in plugin.get("violations", []):
            match = _RULE_TAG.match(str(finding.get("description", "")))
            if not match or finding.get("severity") != "error":
                continue
            for construct in finding.get("violatingConstructs", []):
                env = str(construct.get("constructPath", "")).split("/", 1)[0]
                errors.setdefault((match["rule"], env), []).append(str(construct.get("constructPath")))
    records = [
        Record(source=Source.ASPECT, rule=rule, where=Where(env=env),
               status=Status.FAIL if (rule, env) in errors else Status.PASS,
               detail={"failing": errors[(rule, env)]} if (rule, env) in errors else {})
        for env, rules in ran.items() for rule in rules
    ]
    return Collected(run=SourceRun(source=Source.ASPECT, collected=True, inputs=(guards, report_path)),
                     records=tuple(records))
