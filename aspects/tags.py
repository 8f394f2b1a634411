"""Required tags: applied to every taggable resource, then verified on each one."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from constructs import IConstruct

from aspects.base import ValidatingAspect, resource_type

# CDK's TagManager treats these as taggable, but their CloudFormation schema has no Tags property
# (the CloudFormation validator rejects the template with F3002).
UNTAGGABLE_TYPES = ("AWS::RDS::DBProxyTargetGroup",)


def apply_tags(scope: IConstruct, tags: Mapping[str, str]) -> None:
    for key, value in tags.items():
        cdk.Tags.of(scope).add(key, value, exclude_resource_types=list(UNTAGGABLE_TYPES))


@functools.cache
def _may_be_taggable(cls: type) -> bool:
    """An L1 class without a tag manager (``tags``, or ``cdk_tag_manager`` for the newer ones) never has one."""
    return hasattr(cls, "tags") or hasattr(cls, "cdk_tag_manager")


class RequiredTags(ValidatingAspect):
    """Ensure every taggable resource carries the cost-allocation and data-classification tags."""

    rule_id = "Guard-Tags"

    def __init__(self, required: Sequence[str]) -> None:
        self.required = tuple(required)

    def judge(self, node: cdk.CfnResource) -> str | None:
        # This rule judges every resource, so each kernel round trip it saves is about a thousand per synthesis:
        # none for a class that cannot carry tags, two for a compliant resource (its tag manager, its tags).
        if not _may_be_taggable(type(node)):
            return None
        tags = cdk.TagManager.of(node)  # None when the resource is not taggable after all
        if tags is None:
            return None
        present = tags.tag_values()
        missing = [key for key in self.required if not present.get(key)]
        if not missing or resource_type(node) in UNTAGGABLE_TYPES:
            return None
        return f"{resource_type(node)} lacks required tags {missing}"
