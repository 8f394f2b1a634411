"""``python -m reports collect --target aws --env staging [--out reports/collected/aws.json]``: what runs, read back
after deploy.

Per region of the environment: the AWS Config recorder's state; the compliance of every rule of the two
conformance packs (stacks/compliance.py) and of the stack's own rules (a secret's rotation overdue, a stack's
drift); and the last CloudFormation drift detection of every stack of the environment there (the drift rule
runs it daily). One JSON document with its provenance, which the evidence reads as the sources
``config`` and ``drift`` (reports/sources/aws.py). What was found is not judged here: a NON_COMPLIANT rule or a
drifted stack is collected like a compliant one, and the evidence fails on it.

Exit 0 collected; 2 could not collect (no credentials, a refused call, an unknown environment). A failed run
removes the previous document, so no evidence is built from an older collection by mistake.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from gates import provenance
from policies.conformance_packs import ConformanceError, load_packs
from stacks.naming import DRIFT_RULE, OWN_RULE_SCOPES, ROTATION_RULE, Naming

COLLECTED = Path("reports/collected/aws.json")
LIVE_STACKS = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
               "IMPORT_ROLLBACK_COMPLETE")
CONFORMANCE_SUFFIX = "-conformance-pack-"  # AWS Config names a pack's rule <rule>-conformance-pack-<id>
_CLIENT_ERRORS = (ClientError, BotoCoreError)


class CollectError(RuntimeError):
    """AWS refused or could not answer a call; the message names it."""


def _pages(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return


class Collector:
    def __init__(self, session: Any, env: str) -> None:
        from stacks.config import CDK_JSON, load_config

        self.config = load_config(CDK_JSON)
        if env not in self.config.environments:
            raise CollectError(f"unknown environment {env!r}; cdk.json has {sorted(self.config.environments)}")
        self.session, self.env = session, env
        self.naming = Naming(project=self.config.project.name, env=env)

    def collect(self) -> dict[str, Any]:
        environment = self.config.environments[self.env]
        regions = [self.config.region(environment, role) for role in ("primary", "secondary")]
        return {"env": self.env, "collected_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "regions": [self._region(region.name, region.short_name) for region in regions]}

    def _region(self, region: str, short: str) -> dict[str, Any]:
        config = self.session.client("config", region_name=region)
        primary = region == self.config.project.primary_region
        recorder = self._recorder(config, short, primary)
        rules = self._rules(config, short)
        # Counts prove "none here" only from a recorder that records and has delivered; while it is off or still
        # discovering, an empty count means nothing and every rule keeps its own answer.
        if recorder and recorder["recording"] and recorder["last_status"] == "Success":
            rules = self._not_applicable(config, rules)
        return {"region": region, "recorder": recorder, "rules": rules,
                "stacks": self._stacks(self.session.client("cloudformation", region_name=region))}

    def _recorder(self, config: Any, short: str, primary: bool) -> dict[str, Any] | None:
        """Its status and whether it records what stacks/compliance.py says: every supported type, and the
        global ones (IAM) in the primary region only."""
        name = self.naming.prefix(short)
        found = _call(config.describe_configuration_recorder_status, ConfigurationRecorderNames=[name],
                      missing="NoSuchConfigurationRecorderException")
        if found is None or not found["ConfigurationRecordersStatus"]:
            return None
        status = found["ConfigurationRecordersStatus"][0]
        (recorder,) = _call(config.describe_configuration_recorders,
                            ConfigurationRecorderNames=[name])["ConfigurationRecorders"]
        group = recorder.get("recordingGroup") or {}
        return {"name": name, "recording": bool(status.get("recording")), "last_status": status.get("lastStatus", ""),
                "last_error": status.get("lastErrorMessage", ""),
                "records_as_designed": bool(group.get("allSupported"))
                and bool(group.get("includeGlobalResourceTypes")) == primary}

    def _not_applicable(self, config: Any, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """INSUFFICIENT_DATA of a rule scoped to resource types of which the recorder holds none in this region
        (IAM users where there are none; IAM types outside the primary region) is not applicable, proven by
        AWS Config's own count; any other INSUFFICIENT_DATA stays no data."""
        scopes = _scopes()
        counts: dict[str, int] = {}
        for rule in rules:
            types = scopes.get((rule["pack"], rule["rule"]), ())
            if rule["compliance"] != "INSUFFICIENT_DATA" or not types:
                continue
            unknown = sorted(set(types) - set(counts))
            if unknown:
                answered = _call(config.get_discovered_resource_counts, resourceTypes=unknown)["resourceCounts"]
                counts |= dict.fromkeys(unknown, 0) | {c["resourceType"]: int(c["count"]) for c in answered}
            if not any(counts[kind] for kind in types):
                rule["compliance"] = "NOT_APPLICABLE"
                rule["note"] = f"no {', '.join(types)} recorded here: nothing to evaluate"
        return rules

    def _rules(self, config: Any, short: str) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = []
        for pack in _pack_names():
            name = self.naming.conformance_pack_name(short, pack)
            try:
                found = list(_pages(config.describe_conformance_pack_compliance,
                                    "ConformancePackRuleComplianceList", ConformancePackName=name))
            except _CLIENT_ERRORS as error:
                if _code(error) != "NoSuchConformancePackException":
                    raise CollectError(f"describe_conformance_pack_compliance {name}: {error}") from None
                rules.append({"pack": pack, "rule": "", "compliance": "MISSING", "note": f"no conformance pack {name}"})
                continue
            if not found:
                rules.append({"pack": pack, "rule": "", "compliance": "MISSING", "note": f"{name} holds no rule"})
            rules += [{"pack": pack, "rule": r["ConfigRuleName"].split(CONFORMANCE_SUFFIX, 1)[0],
                       "compliance": r.get("ComplianceType", "INSUFFICIENT_DATA")} for r in found]
        own = {self.naming.config_rule_name(short, rule): rule for rule in (ROTATION_RULE, DRIFT_RULE)}
        answered = _call(config.describe_compliance_by_config_rule, ConfigRuleNames=sorted(own),
                         missing="NoSuchConfigRuleException")
        by_name = {r["ConfigRuleName"]: r for r in (answered or {}).get("ComplianceByConfigRules", [])}
        for name, rule in own.items():
            compliance = (by_name.get(name, {}).get("Compliance") or {}).get("ComplianceType", "MISSING")
            rules.append({"pack": "", "rule": rule, "compliance": compliance,
                          **({"note": f"no rule {name}"} if name not in by_name else {})})
        return rules

    def _stacks(self, cloudformation: Any) -> list[dict[str, Any]]:
        names = sorted(s["StackName"] for s in _pages(cloudformation.list_stacks, "StackSummaries",
                                                      StackStatusFilter=list(LIVE_STACKS))
                       if s["StackName"].startswith(f"{self.naming.base}-"))
        return [self._drift(cloudformation, name) for name in names]

    def _drift(self, cloudformation: Any, stack: str) -> dict[str, Any]:
        """The stack's last drift detection, as the compliance stack's drift rule ran it (daily, with its
        read-only role): reading it needs no access to the stack's resources, detecting it would."""
        (found,) = _call(cloudformation.describe_stacks, StackName=stack)["Stacks"]
        info = found.get("DriftInformation") or {}
        checked = info.get("LastCheckTimestamp")
        drift = {"stack": stack, "drift": info.get("StackDriftStatus", "NOT_CHECKED"),
                 "checked_at": checked.isoformat() if checked else ""}
        if drift["drift"] == "DRIFTED":
            drifts = _pages(cloudformation.describe_stack_resource_drifts, "StackResourceDrifts", StackName=stack,
                            StackResourceDriftStatusFilters=["MODIFIED", "DELETED"])
            drift["resources"] = [{"logical_id": d["LogicalResourceId"], "type": d["ResourceType"],
                                   "status": d["StackResourceDriftStatus"]} for d in drifts]
        return drift


def _pack_names() -> list[str]:
    return [pack.name for pack in load_packs()]


def _scopes() -> dict[tuple[str, str], tuple[str, ...]]:
    """(pack, rule name) -> the resource types it evaluates; "" for the compliance stack's own rules."""
    found = {(pack.name, rule.name): rule.resource_types for pack in load_packs() for rule in pack.kept}
    return found | {("", rule): (kind,) for rule, kind in OWN_RULE_SCOPES.items()}


def _code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


def _call(call: Callable[..., dict[str, Any]], *, missing: str = "", **kwargs: Any) -> Any:
    """The answer; None when the error is ``missing`` (the thing does not exist). :raise CollectError: else."""
    try:
        return call(**kwargs)
    except _CLIENT_ERRORS as error:
        if missing and _code(error) == missing:
            return None
        raise CollectError(f"{getattr(call, '__name__', 'call')}: {error}") from None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports collect", description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=["aws"], required=True)
    parser.add_argument("--env", required=True, help="the environment (cdk.json), e.g. staging")
    parser.add_argument("--out", type=Path, default=COLLECTED)
    try:
        options = parser.parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    provenance.discard(options.out)
    try:
        import boto3

        document = Collector(boto3.Session(), options.env).collect()
    except (CollectError, ConformanceError, *_CLIENT_ERRORS) as error:  # botocore's: no credentials or region
        print(f"collect: INCONCLUSIVE: {error}", file=sys.stderr)
        return 2
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(document, indent=1))
    provenance.write(options.out)
    rules = [r for region in document["regions"] for r in region["rules"]]
    stacks = [s for region in document["regions"] for s in region["stacks"]]
    print(f"collect: {options.env}: {len(rules)} rules ({sum(r['compliance'] == 'NON_COMPLIANT' for r in rules)} "
          f"non-compliant), {len(stacks)} stacks ({sum(s['drift'] == 'DRIFTED' for s in stacks)} drifted); "
          f"{options.out}")
    return 0
