"""The shape every validating aspect shares: a pure judgment of one CloudFormation resource.

``judge`` returns ``None`` when the resource complies (or the rule does not apply) and a message otherwise.
The aspect turns a message into a construct error, which fails synthesis and names the construct path.
A value the rule cannot resolve (a token) is a finding too, never a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import IConstruct


class Unresolvable(Exception):
    """A property is a token the rule cannot judge; reported as a finding, never a pass."""


def resolved(node: cdk.CfnResource, value: Any) -> Any:
    """The literal value of an L1 property, with tokens resolved the way the template will show them."""
    return cdk.Stack.of(node).resolve(value)


@jsii.implements(cdk.IAspect)
class ValidatingAspect:
    rule_id: str = "Guard"
    # The CloudFormation types the rule judges; None means every resource.
    resource_types: frozenset[str] | None = None

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, cdk.CfnResource):
            problem = self.problem(node)
            if problem:
                cdk.Annotations.of(node).add_error(problem)

    def judge(self, node: cdk.CfnResource) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def problem(self, node: cdk.CfnResource) -> str | None:
        """The construct error this rule reports for ``node``, tagged with the rule id, or None."""
        try:
            found = self.judge(node)
        except Unresolvable as error:
            found = f"cannot judge {error}; give it a literal value"
        return f"[{self.rule_id}] {found}" if found else None


@jsii.implements(cdk.IAspect)
class GuardRules:
    """All validating rules behind one aspect: one jsii callback per construct instead of one per rule,
    which is most of what the guards cost on a large app."""

    def __init__(self, rules: Sequence[ValidatingAspect]) -> None:
        self.rules = tuple(rules)

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, cdk.CfnResource):
            return
        kind = node.cfn_resource_type  # one kernel round trip, shared by every rule
        for rule in self.rules:
            if rule.resource_types is not None and kind not in rule.resource_types:
                continue
            problem = rule.problem(node)
            if problem:
                cdk.Annotations.of(node).add_error(problem)
