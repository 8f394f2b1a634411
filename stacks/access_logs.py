"""S3 buckets for access logs: one a service delivers to (load balancer, CloudFront) and one terminal sink for
S3 server access logs.

Elastic Load Balancing, CloudFront standard logging and S3 server access logging deliver only to buckets encrypted
with S3-managed keys (SSE-S3), so these buckets cannot use the customer key; the registry records that exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class AccessLogProps:
    retention_days: int
    source: str  # construct id of the delivery bucket, e.g. "LoadBalancer"
    # CloudFront standard logging writes with object ACLs, so its bucket must accept them (owner-preferred).
    acl_delivery: bool = False


def _log_bucket(
    scope: Construct,
    id_: str,
    retention_days: int,
    ownership: s3.ObjectOwnership = s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    **extra: object,
) -> s3.Bucket:
    return s3.Bucket(
        scope,
        id_,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=ownership,
        lifecycle_rules=[
            s3.LifecycleRule(
                expiration=Duration.days(retention_days),
                noncurrent_version_expiration=Duration.days(retention_days),
            )
        ],
        removal_policy=RemovalPolicy.RETAIN,
        **extra,  # type: ignore[arg-type]
    )


def access_log_sink(scope: Construct, id_: str, retention_days: int) -> s3.Bucket:
    """A terminal bucket for S3 server access logs (it logs nothing itself: that would log forever)."""
    return _log_bucket(scope, id_, retention_days)


class AccessLogBuckets(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: AccessLogProps) -> None:
        super().__init__(scope, id_)
        self.sink = access_log_sink(self, "ServerAccessLogs", props.retention_days)
        self.delivery = _log_bucket(
            self,
            props.source,
            props.retention_days,
            (
                s3.ObjectOwnership.BUCKET_OWNER_PREFERRED
                if props.acl_delivery
                else s3.ObjectOwnership.BUCKET_OWNER_ENFORCED
            ),
            server_access_logs_bucket=self.sink,
            server_access_logs_prefix=f"{props.source.lower()}/",
        )
