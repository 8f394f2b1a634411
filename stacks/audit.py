"""The account's audit trail: multi-region CloudTrail with log-file validation, KMS, CloudWatch Logs delivery and
an S3 bucket with access logging. Every deployment (CloudFormation, ECS, IAM) is a management event, so it is here.

Written with the L1 ``CfnTrail``: the L2 gives the log-delivery role an inline policy, which the HIPAA and NIST
packs reject; here that role is a ``ManagedRole`` and the bucket and key policies are stated explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.buckets import record_bucket
from stacks.logging import encrypted_log_group
from stacks.roles import ManagedRole

CLOUDTRAIL = iam.ServicePrincipal("cloudtrail.amazonaws.com")


@dataclass(frozen=True, kw_only=True)
class AuditProps:
    trail_name: str
    retention_days: int  # objects in the trail bucket
    log_retention_days: int  # the CloudWatch Logs copy, for queries and metric filters
    telemetry_key: kms.IKey
    access_log_bucket: s3.IBucket
    evidence_bucket: s3.IBucket  # its object-level writes are recorded as data events


class AuditTrail(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: AuditProps) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        trail_arn = f"arn:aws:cloudtrail:{stack.region}:{stack.account}:trail/{props.trail_name}"
        only_this_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}
        # A key of its own: its policy lets CloudTrail encrypt for this trail only.
        self.key = kms.Key(
            self,
            "Key",
            description=f"Encrypts the {props.trail_name} CloudTrail logs",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailEncryptsThisTrail",
                principals=[CLOUDTRAIL],
                actions=["kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    **only_this_trail,
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{stack.account}:trail/*"
                    },
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailDescribesKey",
                principals=[CLOUDTRAIL],
                actions=["kms:DescribeKey"],
                resources=["*"],
                conditions=only_this_trail,
            )
        )
        self.bucket = record_bucket(
            self,
            "Bucket",
            key=self.key,
            access_log_bucket=props.access_log_bucket,
            log_prefix="trail/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(props.retention_days),
                    noncurrent_version_expiration=Duration.days(props.retention_days),
                )
            ],
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[CLOUDTRAIL], actions=["s3:GetBucketAcl"], resources=[self.bucket.bucket_arn],
                conditions=only_this_trail,
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[CLOUDTRAIL],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"AWSLogs/{stack.account}/*")],
                conditions={**only_this_trail, "StringEqualsIfExists": {"s3:x-amz-acl": "bucket-owner-full-control"}},
            )
        )
        log_group = encrypted_log_group(
            self, "Logs", key=props.telemetry_key, retention_days=props.log_retention_days
        )
        delivery = ManagedRole(
            self,
            "LogsRole",
            assumed_by=CLOUDTRAIL,
            description="CloudTrail delivers the trail to its log group",
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
                )
            ],
        )
        self.trail = cloudtrail.CfnTrail(
            self,
            "Trail",
            trail_name=props.trail_name,
            is_logging=True,
            s3_bucket_name=self.bucket.bucket_name,
            kms_key_id=self.key.key_arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            cloud_watch_logs_log_group_arn=log_group.log_group_arn,
            cloud_watch_logs_role_arn=delivery.role.role_arn,
            event_selectors=[
                cloudtrail.CfnTrail.EventSelectorProperty(
                    read_write_type="All",
                    include_management_events=True,
                    # Who wrote which evidence object, and when: the vault's own audit trail.
                    data_resources=[
                        cloudtrail.CfnTrail.DataResourceProperty(
                            type="AWS::S3::Object", values=[props.evidence_bucket.arn_for_objects("")]
                        )
                    ],
                )
            ],
        )
        # CloudTrail checks bucket access and its delivery role when the trail is created.
        assert self.bucket.policy is not None
        self.trail.node.add_dependency(self.bucket.policy, delivery.policy)
