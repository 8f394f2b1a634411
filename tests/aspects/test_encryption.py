from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from aspects.encryption import EncryptionAtRest

judge = EncryptionAtRest().judge


def test_unencrypted_bucket_is_a_finding(stack):
    bucket = s3.CfnBucket(stack, "Plain")
    assert judge(bucket) == "AWS::S3::Bucket: bucket_encryption is not set: data at rest is unencrypted"


def test_encrypted_bucket_complies(stack):
    bucket = s3.Bucket(stack, "Sealed", encryption=s3.BucketEncryption.KMS_MANAGED)
    assert judge(bucket.node.default_child) is None


@pytest.mark.parametrize(
    "make, compliant",
    [
        (lambda s: logs.CfnLogGroup(s, "L"), False),
        (lambda s: logs.CfnLogGroup(s, "L", kms_key_id="arn:aws:kms:us-east-1:111111111111:key/x"), True),
        (lambda s: sns.CfnTopic(s, "T"), False),
        (lambda s: sns.CfnTopic(s, "T", kms_master_key_id="alias/x"), True),
        (lambda s: sqs.CfnQueue(s, "Q", sqs_managed_sse_enabled=False), False),
        (lambda s: sqs.CfnQueue(s, "Q"), True),
        (lambda s: kms.CfnKey(s, "K"), True),
    ],
)
def test_stateful_types_need_encryption(stack, make, compliant):
    assert (judge(make(stack)) is None) is compliant


def test_unencrypted_database_is_a_finding(stack):
    db = rds.CfnDBInstance(stack, "Db", engine="postgres", db_instance_class="db.t4g.micro")
    assert judge(db) == "AWS::RDS::DBInstance: storage is not encrypted"


def test_replica_naming_its_regional_key_complies(stack):
    replica = rds.CfnDBInstance(
        stack, "Replica", source_db_instance_identifier="arn:aws:rds:us-east-1:1:db:x", kms_key_id="alias/k"
    )
    assert judge(replica) is None


def test_replica_without_a_key_is_a_finding(stack):
    replica = rds.CfnDBInstance(stack, "Replica", source_db_instance_identifier="arn:aws:rds:us-east-1:1:db:x")
    assert judge(replica) is not None


def test_stateless_resources_are_not_judged(stack):
    assert judge(cdk.CfnResource(stack, "Any", type="AWS::SSM::Parameter")) is None


def test_finding_becomes_a_construct_error(stack):
    bucket = s3.CfnBucket(stack, "Plain")
    EncryptionAtRest().visit(bucket)
    entries = [e for e in bucket.node.metadata if e.type == "aws:cdk:error"]
    assert entries and "[Guard-Encryption]" in entries[0].data


def test_token_flag_is_reported_not_passed(stack):
    from aws_cdk import aws_rds as rds_

    flag = cdk.CfnParameter(stack, "Encrypt", type="String")
    cluster = rds_.CfnDBCluster(stack, "C", engine="aurora-postgresql", storage_encrypted=cdk.Token.as_any(flag.value_as_string))
    EncryptionAtRest().visit(cluster)
    assert any("cannot judge storage_encrypted" in e.data for e in cluster.node.metadata if e.type == "aws:cdk:error")


@pytest.mark.parametrize(
    "make",
    [
        lambda s: __import__("aws_cdk.aws_ec2", fromlist=["x"]).CfnVolume(s, "V", availability_zone="us-east-1a"),
        lambda s: __import__("aws_cdk.aws_efs", fromlist=["x"]).CfnFileSystem(s, "F"),
        lambda s: __import__("aws_cdk.aws_redshift", fromlist=["x"]).CfnCluster(
            s, "R", cluster_type="single-node", db_name="d", master_username="u", node_type="ra3.large"),
    ],
)
def test_other_data_stores_need_encryption_too(stack, make):
    assert "is not true: data at rest is unencrypted" in judge(make(stack))


def test_raw_cfn_resource_of_a_data_type_is_reported_not_passed(stack):
    raw = cdk.CfnResource(stack, "Raw", type="AWS::S3::Bucket")
    EncryptionAtRest().visit(raw)
    assert any("raw CfnResource" in e.data for e in raw.node.metadata if e.type == "aws:cdk:error")


def test_queue_with_a_customer_key_complies(stack):
    assert judge(sqs.CfnQueue(stack, "Q", kms_master_key_id="alias/app")) is None
