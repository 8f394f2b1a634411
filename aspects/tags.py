"""Required tags: applied to every taggable resource, then verified on each one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from constructs import IConstruct

from aspects.base import ValidatingAspect

# CDK's TagManager treats these as taggable, but their CloudFormation schema has no Tags property
# (the CloudFormation validator rejects the template with F3002).
UNTAGGABLE_TYPES = ("AWS::RDS::DBProxyTargetGroup",)


def apply_tags(scope: IConstruct, tags: Mapping[str, str]) -> None:
    for key, value in tags.items():
        cdk.Tags.of(scope).add(key, value, exclude_resource_types=list(UNTAGGABLE_TYPES))


class RequiredTags(ValidatingAspect):
    """Ensure every taggable resource carries the cost-allocation and data-classification tags."""

    rule_id = "Guard-Tags"

    def __init__(self, required: Sequence[str]) -> None:
        self.required = tuple(required)

    def judge(self, node: cdk.CfnResource) -> str | None:
        if not cdk.TagManager.is_taggable(node) or node.cfn_resource_type in UNTAGGABLE_TYPES:
            return None
        tags = cdk.TagManager.of(node)
        present = tags.tag_values() if tags else {}
        missing = [key for key in self.required if not present.get(key)]
        if missing:
            return f"{node.cfn_resource_type} lacks required tags {missing}"
        return None
