"""Which resource types hold data, and where each one states its encryption at rest."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk

from aspects.base import Unresolvable, resolved, resource_type

# type -> the L1 attribute that must be set for the data to be encrypted at rest. A key reference may be a token
# (the key is in the template); a yes/no flag must be a literal, since a token flag could resolve to false.
KEY_ATTRIBUTE = {
    "AWS::S3::Bucket": "bucket_encryption",
    "AWS::Logs::LogGroup": "kms_key_id",
    "AWS::SNS::Topic": "kms_master_key_id",
    "AWS::ECR::Repository": "encryption_configuration",
    "AWS::SecretsManager::Secret": "kms_key_id",
    "AWS::Backup::BackupVault": "encryption_key_arn",
    "AWS::DynamoDB::Table": "sse_specification",
    "AWS::Kinesis::Stream": "stream_encryption",
    "AWS::OpenSearchService::Domain": "encryption_at_rest_options",
}
FLAG_ATTRIBUTE = {
    "AWS::RDS::DBCluster": "storage_encrypted",
    "AWS::DocDB::DBCluster": "storage_encrypted",
    "AWS::Neptune::DBCluster": "storage_encrypted",
    "AWS::Redshift::Cluster": "encrypted",
    "AWS::EFS::FileSystem": "encrypted",
    "AWS::EC2::Volume": "encrypted",
    "AWS::ElastiCache::ReplicationGroup": "at_rest_encryption_enabled",
}
DATABASE_INSTANCE = "AWS::RDS::DBInstance"
QUEUE = "AWS::SQS::Queue"
STATEFUL_TYPES = frozenset(KEY_ATTRIBUTE) | frozenset(FLAG_ATTRIBUTE) | {DATABASE_INSTANCE, QUEUE, "AWS::KMS::Key"}
_MISSING = object()


def is_stateful(node: cdk.CfnResource) -> bool:
    return resource_type(node) in STATEFUL_TYPES


def _property(node: cdk.CfnResource, attribute: str) -> Any:
    value = getattr(node, attribute, _MISSING)
    if value is _MISSING:
        # A raw CfnResource of a data type hides its properties from typed inspection.
        raise Unresolvable(f"{resource_type(node)} declared as a raw CfnResource; use its L1 class")
    return resolved(node, value)


def _flag(node: cdk.CfnResource, attribute: str) -> bool | None:
    value = _property(node, attribute)
    if value is not None and not isinstance(value, bool):
        raise Unresolvable(f"{attribute} {value!r}")
    return value


def encryption_gap(node: cdk.CfnResource) -> str | None:
    """Why ``node`` is not encrypted at rest, or None when it is (or holds no data).

    :raise Unresolvable: a flag is a token, or the resource's properties cannot be read.
    """
    kind = resource_type(node)
    if kind == DATABASE_INSTANCE:
        # A read replica inherits encryption from its source and names only its own region's key.
        if _property(node, "source_db_instance_identifier") and _property(node, "kms_key_id"):
            return None
        return None if _flag(node, "storage_encrypted") is True else "storage is not encrypted"
    if kind == QUEUE:
        if _property(node, "kms_master_key_id"):
            return None
        return None if _flag(node, "sqs_managed_sse_enabled") is not False else "queue is not encrypted"
    if kind in FLAG_ATTRIBUTE:
        attribute = FLAG_ATTRIBUTE[kind]
        return None if _flag(node, attribute) is True else f"{attribute} is not true: data at rest is unencrypted"
    if kind in KEY_ATTRIBUTE:
        attribute = KEY_ATTRIBUTE[kind]
        value = _property(node, attribute)
        return None if value not in (None, False, {}, []) else f"{attribute} is not set: data at rest is unencrypted"
    return None
