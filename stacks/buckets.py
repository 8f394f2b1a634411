"""The one shape of a bucket that keeps records (audit logs, evidence): customer key, TLS only, versioned, private,
access-logged, retained. Access-log buckets differ on purpose (``stacks.access_logs``: SSE-S3 is all they take)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


def record_bucket(
    scope: Construct, id_: str, *, key: kms.IKey, access_log_bucket: s3.IBucket, log_prefix: str, **extra: object
) -> s3.Bucket:
    return s3.Bucket(
        scope,
        id_,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,
        enforce_ssl=True,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=access_log_bucket,
        server_access_logs_prefix=log_prefix,
        removal_policy=RemovalPolicy.RETAIN,
        **extra,  # type: ignore[arg-type]
    )
