"""Production data survives stack deletion: stateful resources are retained, then verified to be."""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from constructs import IConstruct

from aspects.base import ValidatingAspect
from aspects.stateful import STATEFUL_TYPES, is_stateful


@jsii.implements(cdk.IAspect)
class RetainStatefulResources:
    """Mutating: set DeletionPolicy and UpdateReplacePolicy to Retain on stateful resources."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, cdk.CfnResource) and is_stateful(node):
            node.apply_removal_policy(cdk.RemovalPolicy.RETAIN)


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
            return f"{node.cfn_resource_type} has DeletionPolicy {shown}; production data must be retained"
        return None
