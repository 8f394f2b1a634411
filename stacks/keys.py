"""Customer-managed KMS keys for one region, in a stack of their own.

The keys outlive every stack that uses them and must exist before the other region's stacks refer to them
by alias (the replicated database secret does), so they deploy first and alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct
from typing_extensions import Unpack

from stacks.stack_args import StackArgs

TOPIC_PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com")


@dataclass(frozen=True, kw_only=True)
class KeysProps:
    alias_prefix: str  # e.g. "records-dev": aliases become alias/records-dev-data


def data_key_alias(alias_prefix: str) -> str:
    return f"alias/{alias_prefix}-data"


class KeysStack(Stack):
    """``data_key`` encrypts stored data (RDS, secrets, images, backups); ``telemetry_key`` logs and alerts."""

    def __init__(self, scope: Construct, id_: str, *, props: KeysProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        self.data_key = kms.Key(
            self,
            "DataKey",
            alias=data_key_alias(props.alias_prefix),
            description="Encrypts records data at rest: database, secrets, images, backups",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.telemetry_key = kms.Key(
            self,
            "TelemetryKey",
            alias=f"alias/{props.alias_prefix}-telemetry",
            description="Encrypts log groups and alert topics",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch Logs encrypts with the key itself; scoping by encryption context keeps it to this account.
        self.telemetry_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{self.region}:{self.account}:*"
                    }
                },
            )
        )
        # Alarms, event rules and budgets publish to encrypted topics; those services generate data keys for that.
        self.telemetry_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(service) for service in TOPIC_PUBLISHERS],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        self.arns = KeyArns(data=self.data_key.key_arn, telemetry=self.telemetry_key.key_arn)


def imported_key(scope: Construct, id_: str, key_arn: str) -> kms.IKey:
    """A reference to a key of the Keys stack, made in the consumer's own scope.

    Grants against an imported key can only touch the grantee's policy, never the key policy, so a consumer
    stack can never make the Keys stack depend on it (a dependency cycle CDK otherwise creates).
    """
    return kms.Key.from_key_arn(scope, id_, key_arn)


@dataclass(frozen=True, kw_only=True)
class KeyArns:
    """What a consumer stack is given: ARNs, so it imports the keys in its own scope (see ``imported_key``)."""

    data: str
    telemetry: str


@dataclass(frozen=True, kw_only=True)
class KeyRefs:
    data: kms.IKey
    telemetry: kms.IKey

    @classmethod
    def imported(cls, scope: Construct, arns: KeyArns) -> KeyRefs:
        return cls(
            data=imported_key(scope, "DataKey", arns.data),
            telemetry=imported_key(scope, "TelemetryKey", arns.telemetry),
        )
