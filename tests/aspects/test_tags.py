from __future__ import annotations

from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3

from aspects.tags import UNTAGGABLE_TYPES, RequiredTags
from stacks.config import REQUIRED_TAG_KEYS

judge = RequiredTags(REQUIRED_TAG_KEYS).judge


def _tag(resource, tags):
    for key, value in tags.items():
        resource.tags.set_tag(key, value)
    return resource


def test_resource_with_every_required_tag_complies(stack):
    bucket = _tag(s3.CfnBucket(stack, "B"), {k: "x" for k in REQUIRED_TAG_KEYS})
    assert judge(bucket) is None


def test_missing_tag_is_named(stack):
    bucket = _tag(s3.CfnBucket(stack, "B"), {k: "x" for k in REQUIRED_TAG_KEYS if k != "Owner"})
    assert judge(bucket) == "AWS::S3::Bucket lacks required tags ['Owner']"


def test_empty_tag_value_counts_as_missing(stack):
    bucket = _tag(s3.CfnBucket(stack, "B"), {**{k: "x" for k in REQUIRED_TAG_KEYS}, "CostCenter": ""})
    assert "CostCenter" in judge(bucket)


def test_types_cloudformation_cannot_tag_are_skipped(stack):
    group = rds.CfnDBProxyTargetGroup(stack, "G", db_proxy_name="p", target_group_name="default")
    assert group.cfn_resource_type in UNTAGGABLE_TYPES
    assert judge(group) is None
