"""Whose is each suppressed finding: every suppression must come from a registry entry that grants it there.

CDK core suppresses a finding for any acknowledgment on the construct or an ancestor, whoever made it, and cdk-nag
drops a finding acknowledged by its plain id before the report is written. So the gate reads both records an
acknowledgment leaves: the report's ``suppressedViolations`` (each reason carries the marker of the entry that
wrote it) and the ``aws:cdk:acknowledged-rules`` construct metadata of every stack (plain ids show there as
``Annotation::<id>``). Acknowledgments outside any stack are refused while synthesizing (``aspects.nag``).

Each entry states how many findings it accepts per environment; the gate counts what it suppressed. cdk-nag reports
a policy's wildcard (``AwsSolutions-IAM5[Resource::*]``) once however many actions it grants, so a wildcard finding
counts once per action granted on it (``finding_weight``): a new action on ``*`` in a covered policy is a new
finding.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aspects.nag import ACKNOWLEDGED_RULES, AppliedAcknowledgment
from gates.assembly import templates_under
from policies.acknowledgments import NAG_SOURCES, marked_entry

PLAIN_ID = "annotation::"  # cdk-nag strips it in any letter case and honours what follows
# Acknowledgments CDK's own constructs make (the VPC's, of two CloudFormation-Validate findings on its routes).
LIBRARY_ACKNOWLEDGMENTS = frozenset({"CloudFormation-Validate::F3002", "CloudFormation-Validate::F3003"})
_WILDCARD_RULE = "AwsSolutions-IAM5["
NESTED_TEMPLATE = ".nested.template.json"
# A wildcard resource is counted by the actions granted on it, a wildcard action by the resources it reaches.
_GRANTED_WITH = {"Resource": "Action", "Action": "Resource"}
_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")


class AssemblyUnreadable(ValueError):
    """A stack's templates or construct metadata are missing or not JSON; nothing about it can be judged."""


@dataclass(frozen=True)
class Assembly:
    """What the gate reads from the cloud assembly besides the report: each resource by construct path, and each
    construct's acknowledgments (construct path -> {acknowledged id: reason})."""

    resources: Mapping[str, Mapping[str, Any]]
    acknowledgments: Mapping[str, Mapping[str, str]]

    @classmethod
    def read(cls, outdir: Path) -> Assembly:
        """:raise AssemblyUnreadable: a template or its construct metadata file is missing or not JSON."""
        resources: dict[str, Mapping[str, Any]] = {}
        acknowledgments: dict[str, Mapping[str, str]] = {}
        for template in templates_under(outdir):
            metadata = template.with_name(template.name.removesuffix(".template.json") + ".metadata.json")
            nested = template.name.endswith(NESTED_TEMPLATE)  # its constructs' metadata is in its parent's file
            try:
                document = json.loads(template.read_text())
                entries = {} if nested else json.loads(metadata.read_text())
            except (OSError, json.JSONDecodeError) as error:
                raise AssemblyUnreadable(f"{template.relative_to(outdir)}: {error}") from None
            for resource in document.get("Resources", {}).values():
                path = (resource.get("Metadata") or {}).get("aws:cdk:path")
                if path:
                    resources[path] = resource
            for path, items in entries.items():
                for item in items:
                    if item.get("type") == ACKNOWLEDGED_RULES:
                        acknowledgments[path.lstrip("/")] = {**acknowledgments.get(path.lstrip("/"), {}),
                                                             **item.get("data", {})}
        return cls(resources=resources, acknowledgments=acknowledgments)


@dataclass(frozen=True)
class Suppression:
    """One suppressed finding of the report: the pack, the acknowledged (namespaced) id, where it was
    acknowledged, and the entry whose marker its reason carries (None: not the registry's)."""

    pack: str
    rule: str
    path: str
    entry: str | None

    @property
    def environment(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def place(self) -> str:
        """The construct path below the environment's stage: the same construct in every environment."""
        return self.path.split("/", 1)[-1]


def _namespaced_nag_rule(rule: str) -> bool:
    """An id as the registry writes it (``AwsSolutions::AwsSolutions-S1``), which CDK core suppresses and reports."""
    return any(rule.startswith(f"{pack}::{pack}-") for pack in NAG_SOURCES)


def suppressions(report: Mapping[str, Any]) -> list[Suppression]:
    return [
        Suppression(pack=str(plugin.get("pluginName", "?")), rule=str(item.get("acknowledgedId", "")),
                    path=str(item.get("acknowledgedAt", "")), entry=marked_entry(str(item.get("reason", ""))))
        for plugin in report.get("pluginReports", [])
        for item in plugin.get("suppressedViolations", [])
    ]


@dataclass(frozen=True)
class SuppressionVerdict:
    # Suppressions the registry did not make, entries wider than their findings or off their stated count.
    problems: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    # Entry id -> environment -> findings it suppressed there (a wildcard IAM finding once per grant).
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


class _Grants:
    """What the registry granted: (entry id, environment) -> the acknowledged construct paths and rules."""

    def __init__(self, applied: Sequence[AppliedAcknowledgment]) -> None:
        self._by_entry = {(item.entry.id, item.environment): item for item in applied}

    def refusal(self, entry_id: str | None, rule: str, path: str) -> str | None:
        """Why the acknowledgment of ``rule`` at ``path`` is not the registry's, or None when it is."""
        if entry_id is None:
            return "carries no registry marker"
        item = self._by_entry.get((entry_id, path.split("/", 1)[0]))
        if item is None:
            return f"names entry '{entry_id}', which does not apply there"
        if path not in item.construct_paths:
            return f"names entry '{entry_id}', whose paths do not match {path}"
        if rule not in item.entry.nag_rules:
            return f"names entry '{entry_id}', which does not grant {rule}"
        return None


def _flatten(value: Any) -> str:
    """A policy value as cdk-nag spells it in a finding id (``<Bucket.Arn>/*``, ``<AWS::Partition>``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and len(value) == 1:
        (function, argument), = value.items()
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{'.'.join(argument) if isinstance(argument, list) else argument}>"
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            return str(argument[0]).join(_flatten(part) for part in argument[1])
    return json.dumps(value, sort_keys=True)


def _statements(resource: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    properties = resource.get("Properties") or {}
    documents = [properties.get("PolicyDocument")]
    documents += [(policy or {}).get("PolicyDocument") for policy in properties.get("Policies") or []]
    for document in documents:
        statements = (document or {}).get("Statement") or []
        yield from statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def finding_weight(rule_name: str, resource: Mapping[str, Any] | None) -> int:
    """How many grants one suppressed finding stands for. A granular IAM5 finding on a policy counts each action
    granted on its wildcard resource (``Resource::*``), or each resource its wildcard action reaches
    (``Action::s3:*``): CDK merges statements that share resources, so counting statements would miss a new
    action on ``*``. Any other finding counts once."""
    if resource is None or resource.get("Type") not in _POLICY_TYPES or _WILDCARD_RULE not in rule_name:
        return 1
    kind, _, wildcard = rule_name.split("[", 1)[1].removesuffix("]").partition("::")
    if kind not in _GRANTED_WITH:
        return 1
    granted = {
        _flatten(other)
        for statement in _statements(resource)
        if statement.get("Effect") == "Allow" and wildcard in map(_flatten, _as_list(statement.get(kind)))
        for other in _as_list(statement.get(_GRANTED_WITH[kind]))
    }
    return max(1, len(granted))


def judge_suppressions(
    report: Mapping[str, Any], applied: Sequence[AppliedAcknowledgment], assembly: Assembly
) -> SuppressionVerdict:
    """Suppressions and acknowledgments the registry did not make, entries that match constructs they suppress
    nothing on, and entries whose count of suppressed findings differs from what they accept."""
    grants = _Grants(applied)
    problems = []
    for path, acknowledged in sorted(assembly.acknowledgments.items()):
        for rule, reason in sorted(acknowledged.items()):
            if rule in LIBRARY_ACKNOWLEDGMENTS:
                continue
            if rule.lower().startswith(PLAIN_ID):
                problems.append(f"{path}: {rule[len(PLAIN_ID):]} acknowledged outside the registry (a plain id, "
                                "which hides its finding from the report; only registry entries acknowledge)")
                continue
            if not _namespaced_nag_rule(rule):
                problems.append(f"{path}: {rule} acknowledged outside the registry (no rule the registry grants)")
                continue
            refusal = grants.refusal(marked_entry(reason), rule, path)
            if refusal:
                problems.append(f"{path}: {rule} acknowledged outside the registry (it {refusal})")
    found = [item for item in suppressions(report) if item.pack in NAG_SOURCES]
    mine: dict[str, list[Suppression]] = defaultdict(list)
    for item in found:
        refusal = grants.refusal(item.entry, item.rule, item.path)
        if refusal:
            problems.append(f"{item.path}: {item.rule} suppressed outside the registry (it {refusal})")
        elif item.entry:
            mine[item.entry].append(item)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for entry_id, items in mine.items():
        for item in items:
            rule_name = item.rule.split("::", 1)[1]
            counts[entry_id][item.environment] += finding_weight(rule_name, assembly.resources.get(item.path))
    problems += _too_broad(applied, mine) + _miscounted(applied, counts)
    return SuppressionVerdict(problems=problems, unused=_unused(applied, mine),
                              counts={entry: dict(by_env) for entry, by_env in sorted(counts.items())})


def _unused(applied: Sequence[AppliedAcknowledgment], mine: Mapping[str, list[Suppression]]) -> list[str]:
    problems = []
    for item in applied:
        for rule in item.entry.nag_rules:
            if not any(s.rule == rule and s.environment == item.environment for s in mine.get(item.entry.id, [])):
                problems.append(
                    f"acknowledgment '{item.entry.id}' rule {rule} suppressed nothing in '{item.environment}'; "
                    "the finding is fixed, so remove the rule from the entry"
                )
    return problems


def _too_broad(applied: Sequence[AppliedAcknowledgment], mine: Mapping[str, list[Suppression]]) -> list[str]:
    """Constructs an entry's globs match where it suppresses nothing in any environment: a glob wider than its
    findings would take any finding that appears there later without review."""
    matched: dict[str, set[str]] = defaultdict(set)
    for item in applied:
        if item.entry.nag_rules:
            matched[item.entry.id].update(path.split("/", 1)[-1] for path in item.construct_paths)
    problems = []
    for entry_id, places in matched.items():
        idle = sorted(places - {s.place for s in mine.get(entry_id, [])})
        if idle:
            problems.append(f"acknowledgment '{entry_id}' matches {idle[0]}"
                            f"{f' and {len(idle) - 1} more' if len(idle) > 1 else ''} where it suppresses "
                            "nothing in any environment; narrow its paths to the constructs of its findings")
    return problems


def _miscounted(applied: Sequence[AppliedAcknowledgment], counts: Mapping[str, Counter[str]]) -> list[str]:
    problems = []
    for item in applied:
        if not item.entry.nag_rules:
            continue
        accepted, actual = item.entry.accepted_in(item.environment), counts.get(item.entry.id, Counter())[
            item.environment]
        if accepted is None:
            problems.append(f"acknowledgment '{item.entry.id}' states no count for '{item.environment}'; it "
                            f"suppresses {actual} findings there (accepts: {{{item.environment}: {actual}, ...}})")
        elif actual > accepted:
            problems.append(f"acknowledgment '{item.entry.id}' suppresses {actual} findings in '{item.environment}' "
                            f"but accepts {accepted}: review the new ones, then set accepts to {actual}")
        elif actual < accepted:
            problems.append(f"acknowledgment '{item.entry.id}' suppresses {actual} findings in '{item.environment}' "
                            f"but accepts {accepted}: lower accepts to {actual}")
    return problems
