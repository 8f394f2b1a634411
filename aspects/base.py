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
from constructs import Construct, IConstruct, IValidation


class Unresolvable(Exception):
    """A property is a token the rule cannot judge; reported as a finding, never a pass."""


_TYPE_OF_CLASS: dict[type, str] = {}


def resource_type(node: cdk.CfnResource) -> str:
    """The CloudFormation type. An L1 class states it as a constant, read from the kernel once per class (every
    read of ``cfn_resource_type`` is a round trip, and the guards judge about a thousand resources); a raw
    ``CfnResource`` has no such constant and is asked each time."""
    cls = type(node)
    if cls not in _TYPE_OF_CLASS:
        if "CFN_RESOURCE_TYPE_NAME" not in vars(cls):
            return node.cfn_resource_type
        _TYPE_OF_CLASS[cls] = cls.CFN_RESOURCE_TYPE_NAME  # type: ignore[attr-defined]
    return _TYPE_OF_CLASS[cls]


# CDK encodes a token in a string as "${Token[...]}" (or "#{Token[...]}" inside a list) and in a number as a
# double below -1e288; anything else of these types is already what the template will show.
_TOKEN_MARKERS = ("${Token[", "#{Token[")
_NUMBER_TOKEN_BELOW = -1e288


def _literal(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return value > _NUMBER_TOKEN_BELOW
    return isinstance(value, str) and not any(marker in value for marker in _TOKEN_MARKERS)


def resolved(node: cdk.CfnResource, value: Any) -> Any:
    """The literal value of an L1 property, with tokens resolved the way the template will show them. A plain
    literal is returned as it is: resolving costs two kernel round trips."""
    return value if _literal(value) else cdk.Stack.of(node).resolve(value)


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
    """All validating rules behind one aspect that runs once per stage, over every resource in it.

    CDK invokes aspects depth-first, in child order. ``attach`` puts this aspect on a childless checkpoint
    construct added as the stage's last child, so it runs after every stack's subtree has had the mutating
    aspects (tags, retention) applied; there one ``find_all`` reaches every resource. A Python aspect on the
    stage itself would be called back once per construct (about 2,000 per synthesis), which was most of what
    the guards cost.
    """

    CHECKPOINT_ID = "Guards"

    def __init__(self, rules: Sequence[ValidatingAspect]) -> None:
        self.rules = tuple(rules)
        self.judged: set[str] = set()  # kernel_reference of each resource judged

    @classmethod
    def attach(cls, stage: cdk.Stage, rules: Sequence[ValidatingAspect]) -> GuardRules:
        """Judge every resource of ``stage`` at synthesis. Call it after the stage's stacks are built."""
        guard_rules = cls(rules)
        checkpoint = Construct(stage, cls.CHECKPOINT_ID)
        cdk.Aspects.of(checkpoint).add(guard_rules, priority=cdk.AspectPriority.READONLY)
        checkpoint.node.add_validation(_EveryResourceJudged(stage, guard_rules))
        return guard_rules

    def visit(self, node: IConstruct) -> None:
        scope = node.node.scope
        if scope is None:
            return
        children = scope.node.children
        if children[-1] is not node:
            # Its subtree has not had the mutating aspects yet: judging it now would report missing tags.
            for late in children[children.index(node) + 1:]:
                cdk.Annotations.of(late).add_error(
                    f"[Guard] {late.node.path} was added to the stage after its guards; build every stack "
                    "before calling aspects.guard.guard()")
        for construct in scope.node.find_all():
            self.judge(construct)

    def judge(self, node: IConstruct) -> None:
        """Every rule that applies to ``node``'s resource type, each problem a construct error."""
        if not isinstance(node, cdk.CfnResource):
            return
        self.judged.add(kernel_reference(node))
        kind = resource_type(node)  # shared by every rule
        for rule in self.rules:
            if rule.resource_types is not None and kind not in rule.resource_types:
                continue
            problem = rule.problem(node)
            if problem:
                cdk.Annotations.of(node).add_error(problem)


# What CDK itself adds to each stack after the aspects (version reporting, on under the CLI): no AWS resource.
CDK_VERSION_REPORT = "AWS::CDK::Metadata"


@jsii.implements(IValidation)
class _EveryResourceJudged:
    """Fails synthesis on a resource the guards never saw. CDK calls each aspect once per construct, and with
    aspect stabilization a construct that another aspect adds in a later pass gets the aspects it inherits, but
    the checkpoint has already had its one call: such a resource would reach the template unjudged."""

    def __init__(self, stage: cdk.Stage, guard_rules: GuardRules) -> None:
        self.stage = stage
        self.guard_rules = guard_rules

    def validate(self) -> list[str]:
        return [f"[Guard] {node.node.path} was added after the guards judged the stage (by an aspect?); "
                "resources must exist before synthesis starts"
                for node in self.stage.node.find_all()
                if isinstance(node, cdk.CfnResource) and kernel_reference(node) not in self.guard_rules.judged
                and resource_type(node) != CDK_VERSION_REPORT]


def kernel_reference(construct: IConstruct) -> str:
    """The construct's identity: the Python proxy of a construct created in JavaScript is a new object on each
    read (``id()`` and ``is`` tell nothing), its jsii kernel reference is not, and reading it is no round trip."""
    return str(construct.__jsii_ref__.ref)  # type: ignore[attr-defined]
