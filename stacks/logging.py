"""KMS-encrypted CloudWatch log groups with a retention taken from configuration."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import ALLOWED_RETENTION_DAYS


def encrypted_log_group(
    scope: Construct,
    id_: str,
    *,
    key: kms.IKey,
    retention_days: int,
    log_group_name: str | None = None,
) -> logs.LogGroup:
    """A log group encrypted with ``key`` that keeps events for ``retention_days``.

    :raise ValueError: ``retention_days`` is not a period CloudWatch Logs accepts.
    """
    if retention_days not in ALLOWED_RETENTION_DAYS:
        raise ValueError(f"log retention {retention_days} days is not one CloudWatch accepts")
    group = logs.LogGroup(
        scope,
        id_,
        encryption_key=key,
        log_group_name=log_group_name,
        removal_policy=RemovalPolicy.RETAIN,
    )
    # The L2 takes an enum whose Python members carry names, not days; the L1 takes the number itself.
    cfn = group.node.default_child
    assert isinstance(cfn, logs.CfnLogGroup)
    cfn.retention_in_days = retention_days
    return group
