"""The evidence vault: where CI uploads compliance evidence bundles. Object Lock in compliance mode keeps every
version for the configured retention; nobody, the root user included, can delete or shorten it."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.buckets import record_bucket

EVIDENCE_PROTECTED_ACTIONS = (
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:BypassGovernanceRetention",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutLifecycleConfiguration",
)


@dataclass(frozen=True, kw_only=True)
class EvidenceVaultProps:
    retention_days: int
    access_log_bucket: s3.IBucket
    # Named, not generated: each account's CDK bootstrap execution policy denies loosening this very bucket
    # (docs/deployment.md), and that policy exists before the bucket does.
    bucket_name: str


class EvidenceVault(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: EvidenceVaultProps) -> None:
        super().__init__(scope, id_)
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts compliance evidence bundles",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.bucket = record_bucket(
            self,
            "Bucket",
            key=self.key,
            access_log_bucket=props.access_log_bucket,
            log_prefix="evidence/",
            bucket_name=props.bucket_name,
            object_lock_enabled=True,  # on a versioned bucket, which record_bucket is
            object_lock_default_retention=s3.ObjectLockRetention.compliance(Duration.days(props.retention_days)),
        )
        # For every principal, not only the CI role: a delete marker would hide a locked version from readers,
        # and nobody has a reason to shorten retention. (Who can rewrite this policy, e.g. CloudFormation's
        # execution role, is limited by the bootstrap execution policy: docs/architecture.md.)
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="NobodyDeletesOrShortensEvidence",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=list(EVIDENCE_PROTECTED_ACTIONS),
                resources=[self.bucket.bucket_arn, self.bucket.arn_for_objects("*")],
            )
        )
