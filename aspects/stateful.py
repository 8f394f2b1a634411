"""Which resource types hold data, and where each one states its encryption at rest."""

from __future__ import annotations

import aws_cdk as cdk

from aspects.base import resolved

# type -> the L1 attribute that must be set for the data to be encrypted with a key we control or AWS's.
ENCRYPTION_ATTRIBUTE = {
    "AWS::S3::Bucket": "bucket_encryption",
    "AWS::Logs::LogGroup": "kms_key_id",
    "AWS::SNS::Topic": "kms_master_key_id",
    "AWS::ECR::Repository": "encryption_configuration",
    "AWS::SecretsManager::Secret": "kms_key_id",
    "AWS::Backup::BackupVault": "encryption_key_arn",
    "AWS::DynamoDB::Table": "sse_specification",
    "AWS::EFS::FileSystem": "encrypted",
    "AWS::ElastiCache::ReplicationGroup": "at_rest_encryption_enabled",
    "AWS::RDS::DBCluster": "storage_encrypted",
    "AWS::Kinesis::Stream": "stream_encryption",
}
DATABASE_INSTANCE = "AWS::RDS::DBInstance"
STATEFUL_TYPES = frozenset(ENCRYPTION_ATTRIBUTE) | {DATABASE_INSTANCE, "AWS::KMS::Key", "AWS::SQS::Queue"}


def is_stateful(node: cdk.CfnResource) -> bool:
    return node.cfn_resource_type in STATEFUL_TYPES


def encryption_gap(node: cdk.CfnResource) -> str | None:
    """Why ``node`` is not encrypted at rest, or None when it is (or holds no data)."""
    kind = node.cfn_resource_type
    if kind == DATABASE_INSTANCE:
        encrypted = resolved(node, getattr(node, "storage_encrypted"))
        # A read replica inherits encryption from its source and names only its own region's key.
        is_encrypted_replica = resolved(node, getattr(node, "source_db_instance_identifier")) and resolved(
            node, getattr(node, "kms_key_id")
        )
        return None if encrypted is True or is_encrypted_replica else "storage is not encrypted"
    if kind == "AWS::SQS::Queue":
        kms_key = resolved(node, getattr(node, "kms_master_key_id"))
        managed = resolved(node, getattr(node, "sqs_managed_sse_enabled"))
        return None if kms_key or managed is not False else "queue is not encrypted"
    attribute = ENCRYPTION_ATTRIBUTE.get(kind)
    if attribute is None:
        return None
    value = resolved(node, getattr(node, attribute))
    if value in (None, False, {}, []):
        return f"{attribute} is not set: data at rest is unencrypted"
    return None
