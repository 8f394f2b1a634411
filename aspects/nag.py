"""cdk-nag 3 packs on the app, and the acknowledgment registry applied to the constructs it names.

Each registry entry is applied with its namespaced rule id, so CDK core suppresses the finding and records
it in ``suppressedViolations`` (reason, construct path) for the evidence trail. Its ``checkov::`` ids become
``Metadata.checkov.skip`` on the same resources, the only skips the checkov gate accepts. An entry that has
expired, or whose paths name no construct, stops the build: an exception nobody can locate is not an exception.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks
from constructs import IConstruct

from policies.acknowledgments import AcknowledgmentEntry, Registry

PACKS = ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5")
# cdk-nag's write_suppressions_to_cloud_formation only records its own (plain-id) suppressions; the namespaced
# ones used here are suppressed by CDK core, so the registry writes its own record into each template.
METADATA_KEY = "acknowledgments"
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


def _matching(nodes: Sequence[tuple[str, IConstruct]], patterns: Sequence[str]) -> list[tuple[str, IConstruct]]:
    return [(path, n) for path, n in nodes if any(fnmatchcase(path, pattern) for pattern in patterns)]


def acknowledgment_marker(entry: AcknowledgmentEntry) -> str:
    """The tail of every reason the registry writes; gates read the entry id back from it."""
    return f"[ack {entry.id}; owner {entry.owner}; review by {entry.expires}]"


def _resource(node: IConstruct) -> cdk.CfnResource | None:
    resource = node if isinstance(node, cdk.CfnResource) else node.node.default_child
    return resource if isinstance(resource, cdk.CfnResource) else None


def _record_in_template(resource: cdk.CfnResource, entry: AcknowledgmentEntry) -> None:
    existing = resource.get_metadata(METADATA_KEY) or []
    record = {
        "id": entry.id,
        "rules": list(entry.rules),
        "reason": entry.reason,
        "owner": entry.owner,
        "expires": entry.expires.isoformat(),
    }
    resource.add_metadata(METADATA_KEY, [*existing, record])


def _skip_in_checkov(resource: cdk.CfnResource, entry: AcknowledgmentEntry) -> None:
    existing = resource.get_metadata(CHECKOV_METADATA_KEY) or {"skip": []}
    comment = f"{entry.reason} {acknowledgment_marker(entry)}"
    skips = [*existing["skip"], *({"id": check, "comment": comment} for check in entry.checkov_checks)]
    resource.add_metadata(CHECKOV_METADATA_KEY, {"skip": skips})


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
    for stage in stages:
        environment = stage.node.id
        # Each node.path is a round trip to the jsii kernel: read every path once, not once per entry.
        nodes = [(n.node.path, n) for n in stage.node.find_all()]
        for entry in registry.entries:
            if not entry.applies_to(environment) or not entry.governs_constructs:
                continue
            stale = [pattern for pattern in entry.paths if not _matching(nodes, [pattern])]
            if stale:
                problems.append(
                    f"acknowledgment '{entry.id}' path {stale[0]!r} matches no construct in '{environment}'; "
                    "remove it or correct it"
                )
                continue
            matched = _matching(nodes, entry.paths)
            reason = f"{entry.reason} {acknowledgment_marker(entry)}"
            for path, node in matched:
                if entry.nag_rules:
                    cdk.Validations.of(node).acknowledge(
                        *[cdk.Acknowledgment(id=rule, reason=reason) for rule in entry.nag_rules]
                    )
                resource = _resource(node)
                if resource is None:
                    if entry.checkov_checks:
                        problems.append(
                            f"acknowledgment '{entry.id}' path {path!r} is no CloudFormation resource, so its "
                            "checkov skips have nowhere to go; name the resource (…/Resource)"
                        )
                    continue
                _record_in_template(resource, entry)
                if entry.checkov_checks:
                    _skip_in_checkov(resource, entry)
            applied.append(AppliedAcknowledgment(entry, environment, tuple(path for path, _ in matched)))
    if problems:
        raise GuardError(problems)
    return applied
