from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm

from aspects.removal import RetainStatefulResources, StatefulResourcesRetained


def test_mutation_retains_stateful_resources_only(stack):
    bucket = s3.Bucket(stack, "B", removal_policy=cdk.RemovalPolicy.DESTROY)
    parameter = ssm.StringParameter(stack, "P", string_value="v")
    for node in stack.node.find_all():
        RetainStatefulResources().visit(node)
    assert bucket.node.default_child.cfn_options.deletion_policy == cdk.CfnDeletionPolicy.RETAIN
    assert parameter.node.default_child.cfn_options.deletion_policy is None


def test_validation_flags_a_deletable_stateful_resource(stack):
    bucket = s3.Bucket(stack, "B", removal_policy=cdk.RemovalPolicy.DESTROY)
    message = StatefulResourcesRetained().judge(bucket.node.default_child)
    assert message == "AWS::S3::Bucket has DeletionPolicy Delete; production data must be retained"


def test_validation_passes_retained_resources(stack):
    bucket = s3.Bucket(stack, "B", removal_policy=cdk.RemovalPolicy.RETAIN)
    assert StatefulResourcesRetained().judge(bucket.node.default_child) is None
