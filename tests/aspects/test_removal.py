from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from aws_cdk.assertions import Match, Template

from aspects.removal import StatefulResourcesRetained, retain_stateful_resources


def test_mutation_retains_stateful_resources_only(stack):
    s3.Bucket(stack, "B", removal_policy=cdk.RemovalPolicy.DESTROY)
    ssm.StringParameter(stack, "P", string_value="v")
    retain_stateful_resources(stack)
    template = Template.from_stack(stack)
    template.has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
    template.has_resource("AWS::SSM::Parameter", {"DeletionPolicy": Match.absent()})


def test_validation_flags_a_deletable_stateful_resource(stack):
    bucket = s3.Bucket(stack, "B", removal_policy=cdk.RemovalPolicy.DESTROY)
    message = StatefulResourcesRetained().judge(bucket.node.default_child)
    assert message == "AWS::S3::Bucket has DeletionPolicy Delete; production data must be retained"


def test_validation_passes_retained_resources(stack):
    bucket = s3.Bucket(stack, "B", removal_policy=cdk.RemovalPolicy.RETAIN)
    assert StatefulResourcesRetained().judge(bucket.node.default_child) is None
