"""Production data survives stack deletion: stateful resources are retained, then verified to be."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

from aspects.base import ValidatingAspect, resource_type
from aspects.stateful import STATEFUL_TYPES, is_stateful


def retain_stateful_resources(scope: IConstruct) -> None:
    """Mutating: DeletionPolicy and UpdateReplacePolicy Retain on every stateful resource under ``scope``.

    CDK's own aspect, not one of ours: it runs inside the jsii kernel, where a Python aspect costs a round trip
    for every construct of the stage (about 750 in prod) only to look at its type.
    """
    cdk.RemovalPolicies.of(scope).retain(apply_to_resource_types=sorted(STATEFUL_TYPES),
                                         priority=cdk.AspectPriority.MUTATING)


class StatefulResourcesRetained(ValidatingAspect):
    """Ensure no stateful resource in production can be deleted with its stack."""

    rule_id = "Guard-Retain"
    resource_types = STATEFUL_TYPES

    def judge(self, node: cdk.CfnResource) -> str | None:
        if not is_stateful(node):
            return None
        policy = node.cfn_options.deletion_policy
        if policy != cdk.CfnDeletionPolicy.RETAIN:
            shown = policy.name.title() if policy else "unset (Delete)"
            return f"{resource_type(node)} has DeletionPolicy {shown}; production data must be retained"
        return None
