"""cdk-nag 3 packs on the app, and the acknowledgment registry applied to the constructs it names.

Each registry entry is applied with its namespaced rule id, so CDK core suppresses the finding and records
it in ``suppressedViolations`` (reason, construct path) for the evidence trail. Its ``checkov::`` ids become
``Metadata.checkov.skip`` on the same resources, the only skips the checkov gate accepts. An entry that has
expired, or whose paths name no construct, stops the build: an exception nobody can locate is not an exception.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
import jsii
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks
from constructs import Construct, IConstruct, IValidation, Node

from aspects.base import GuardRules, kernel_reference, resource_type
from policies.acknowledgments import NAG_SOURCES, AcknowledgmentEntry, Registry, segment_matches

PACKS = NAG_SOURCES  # the three packs every synthesis runs, as the registry names their rules
# cdk-nag's write_suppressions_to_cloud_formation writes nothing for stacks inside a Stage (verified with 3.x on
# aws-cdk-lib 2.275), so the registry writes its own record into each template.
METADATA_KEY = "acknowledgments"
# Where CDK core keeps a construct's acknowledgments (cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY).
ACKNOWLEDGED_RULES = "aws:cdk:acknowledged-rules"
CHECKOV_METADATA_KEY = "checkov"


class GuardError(ValueError):
    """The guards cannot be applied as configured; each line of ``problems`` names the cause."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class AppliedAcknowledgment:
    entry: AcknowledgmentEntry
    environment: str
    construct_paths: tuple[str, ...]


def register_packs(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True),
        HIPAASecurityChecks(app, write_suppressions_to_cloud_formation=True),
        NIST80053R5Checks(app, write_suppressions_to_cloud_formation=True),
    )
    # On a child of its own: a validation on the app itself is reported under an empty construct path.
    Construct(app, "Registry").node.add_validation(_OnlyGuardedStacks(app))


@jsii.implements(IValidation)
class _OnlyGuardedStacks:
    """What the synth gate could not see otherwise. An acknowledgment on the app or a stage covers every finding of
    its rule in whole environments and leaves no trace in any stack's metadata, where the gate looks for
    acknowledgments the registry did not make (``gates.suppressions``); the registry acknowledges resources only,
    so any is refused. And a stack outside the guarded stages would reach the assembly judged by the nag packs
    alone, without the guards or the registry."""

    def __init__(self, root: IConstruct) -> None:
        self.root = root

    def validate(self) -> list[str]:
        problems = [f"[Guard] {child.node.path}: {'a stack' if cdk.Stack.is_stack(child) else 'a stage'} the guards "
                    "do not judge; build it inside an environment stage (stacks/stage.py)"
                    for child in self.root.node.children
                    if cdk.Stack.is_stack(child) or (cdk.Stage.is_stage(child) and not _guarded(child))]
        pending = [self.root]
        while pending:
            construct = pending.pop()
            for item in construct.node.metadata:
                if item.type == ACKNOWLEDGED_RULES:
                    problems.append(f"[Guard] {construct.node.path or 'the app'}: {', '.join(item.data)} "
                                    "acknowledged outside any stack; only the registry acknowledges, on resources")
            pending.extend(child for child in construct.node.children if not cdk.Stack.is_stack(child))
        return problems


def _guarded(stage: IConstruct) -> bool:
    return stage.node.try_find_child(GuardRules.CHECKPOINT_ID) is not None


class ConstructTree:
    """Finds the constructs a registry glob names by walking only the branches it can match, segment by segment
    (``policies.acknowledgments.path_matches``). Every read from a construct is a round trip to the jsii kernel;
    reading every construct's path cost about 1.5 s of a guarded synthesis. Globs share their leading segments
    (``*/Service-*/...``), so what a prefix matched is kept for the next glob."""

    def __init__(self, root: IConstruct) -> None:
        self._root = (root.node.id, root)
        self._found: dict[str, list[tuple[str, IConstruct]]] = {}  # by pattern
        self._nodes: dict[str, Node] = {}  # by construct path
        self._children_of: dict[str, list[tuple[str, IConstruct]]] = {}  # by construct path

    def find(self, pattern: str) -> list[tuple[str, IConstruct]]:
        """(path, construct) for every construct under the root that ``pattern`` matches."""
        if pattern not in self._found:
            parent, _, segment = pattern.rpartition("/")
            if not parent:
                self._found[pattern] = [self._root] if segment_matches(segment, self._root[0]) else []
            else:
                self._found[pattern] = [match for path, node in self.find(parent)
                                        for match in self._children(path, node, segment)]
        return self._found[pattern]

    def _node(self, path: str, construct: IConstruct) -> Node:
        if path not in self._nodes:
            self._nodes[path] = construct.node
        return self._nodes[path]

    def _children(self, path: str, construct: IConstruct, segment: str) -> list[tuple[str, IConstruct]]:
        if not any(magic in segment for magic in "*?["):
            child = self._node(path, construct).try_find_child(segment)
            return [] if child is None else [(f"{path}/{segment}", child)]
        # Cached by the construct's path, never looked up as a pattern: CDK ids may hold "[" or "*".
        if path not in self._children_of:
            self._children_of[path] = [(_path_of(child), child) for child in self._node(path, construct).children]
        return [(child_path, child) for child_path, child in self._children_of[path]
                if segment_matches(segment, child_path.rpartition("/")[2])]


def _path_of(construct: IConstruct) -> str:
    """The construct's path in one round trip (``node.path`` takes two): its string form, which for a
    CloudFormation resource ends in `` [<type>]``."""
    if not isinstance(construct, Construct):
        return construct.node.path
    shown = construct.to_string()
    if isinstance(construct, cdk.CfnResource):
        shown = shown.removesuffix(f" [{resource_type(construct)}]")
    return shown


def _resource(node: IConstruct) -> cdk.CfnResource | None:
    resource = node if isinstance(node, cdk.CfnResource) else node.node.default_child
    return resource if isinstance(resource, cdk.CfnResource) else None


class TemplateRecords:
    """The registry's records and checkov skips per resource, written into its template metadata once at the end
    (reading back and rewriting the metadata for each entry cost two kernel round trips apiece). Both metadata
    keys belong to the registry: nothing else writes them."""

    def __init__(self) -> None:
        self._pending: dict[str, _PendingMetadata] = {}

    def add(self, resource: cdk.CfnResource, entry: AcknowledgmentEntry) -> None:
        pending = self._pending.setdefault(kernel_reference(resource), _PendingMetadata(resource))
        pending.records.append({"id": entry.id, "rules": list(entry.rules), "reason": entry.reason,
                                "owner": entry.owner, "expires": entry.expires.isoformat()})
        comment = f"{entry.reason} {entry.marker}"
        pending.skips.extend({"id": check, "comment": comment} for check in entry.checkov_checks)

    def write(self) -> None:
        for pending in self._pending.values():
            pending.resource.add_metadata(METADATA_KEY, pending.records)
            if pending.skips:
                pending.resource.add_metadata(CHECKOV_METADATA_KEY, {"skip": pending.skips})
        self._pending.clear()


@dataclass(frozen=True)
class _PendingMetadata:
    """One resource's template metadata, as the JSON it becomes: the registry records and the checkov skips."""

    resource: cdk.CfnResource
    records: list[dict[str, object]] = field(default_factory=list)
    skips: list[dict[str, str]] = field(default_factory=list)


def _overlaps(granted: dict[tuple[str, str], str], entry: AcknowledgmentEntry, path: str) -> list[str]:
    """Two entries granting one rule on one construct: CDK keeps one reason, so the other entry would be credited
    with a finding it never suppressed (or hide behind one it did)."""
    problems = []
    for rule in entry.nag_rules:
        holder = granted.setdefault((path, rule), entry.id)
        if holder != entry.id:
            problems.append(f"acknowledgments '{holder}' and '{entry.id}' both grant {rule} on {path}; "
                            "one finding, one entry")
    return problems


def apply_acknowledgments(
    stages: Sequence[cdk.Stage],
    registry: Registry,
    today: dt.date,
    known_environments: frozenset[str] = frozenset(),
) -> list[AppliedAcknowledgment]:
    """Acknowledge each entry's rules on the constructs its paths match, stage by stage.

    :raise GuardError: an entry has expired or runs too long, names an unknown environment, or one of its
        paths matches no construct in a stage it covers.
    """
    problems = registry.problems(today)
    applied: list[AppliedAcknowledgment] = []
    for entry in registry.entries:
        strays = sorted(set(entry.environments) - known_environments) if known_environments else []
        if strays:
            problems.append(f"acknowledgment '{entry.id}' names unknown environments {strays}")
    records = TemplateRecords()
    granted: dict[tuple[str, str], str] = {}  # (construct path, rule) -> the entry that acknowledged it
    for stage in stages:
        environment = stage.node.id
        tree = ConstructTree(stage)
        for entry in registry.entries:
            if not entry.applies_to(environment) or not entry.governs_constructs:
                continue
            found = {pattern: tree.find(pattern) for pattern in entry.paths}
            stale = [pattern for pattern, nodes in found.items() if not nodes]
            if stale:
                problems.append(
                    f"acknowledgment '{entry.id}' path {stale[0]!r} matches no construct in '{environment}'; "
                    "remove it or correct it"
                )
                continue
            # A construct two patterns name is acknowledged once.
            matched = list({path: node for nodes in found.values() for path, node in nodes}.items())
            reason = f"{entry.reason} {entry.marker}"
            for path, node in matched:
                resource = _resource(node)
                if entry.nag_rules:
                    if not isinstance(node, cdk.CfnResource):
                        # An acknowledgment covers everything below its construct: on a stack or an L2 it
                        # would take findings nobody reviewed.
                        problems.append(f"acknowledgment '{entry.id}' path {path!r} is no CloudFormation resource; "
                                        "name the resource itself (…/Resource)")
                        continue
                    problems.extend(_overlaps(granted, entry, path))
                    cdk.Validations.of(node).acknowledge(
                        *[cdk.Acknowledgment(id=rule, reason=reason) for rule in entry.nag_rules]
                    )
                if resource is None:
                    if entry.checkov_checks:
                        problems.append(
                            f"acknowledgment '{entry.id}' path {path!r} is no CloudFormation resource, so its "
                            "checkov skips have nowhere to go; name the resource (…/Resource)"
                        )
                    continue
                records.add(resource, entry)
            applied.append(AppliedAcknowledgment(entry, environment, tuple(path for path, _ in matched)))
    if problems:
        raise GuardError(problems)
    records.write()
    return applied
