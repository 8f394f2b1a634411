"""Compliance after deploy, per account and region: an AWS Config recorder and delivery channel, AWS's HIPAA
Security and NIST 800-53 rev 5 conformance packs (trimmed to the services deployed here, policies/conformance/),
and two rules the packs lack: secrets not rotated within the rotation runbooks' interval, and CloudFormation
stacks that drifted from their templates. Either one turning NON_COMPLIANT notifies the alerts topic.

``python -m reports collect --target aws`` reads what these evaluate back into the evidence (sources ``config``
and ``drift``). The recorder uses AWS Config's service-linked role, created once per account
(docs/deployment.md); global resources (IAM) are recorded in the primary region only, so they count once.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_config as config
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct
from typing_extensions import Unpack

from policies.conformance_packs import load_packs
from stacks.access_logs import access_log_sink
from stacks.buckets import record_bucket
from stacks.naming import DRIFT_RULE, OWN_RULE_SCOPES, ROTATION_RULE, Naming
from stacks.stack_args import StackArgs

CONFIG = iam.ServicePrincipal("config.amazonaws.com")


@dataclass(frozen=True, kw_only=True)
class ComplianceProps:
    naming: Naming
    short: str  # the region's short name
    record_global_resources: bool  # the primary region only
    retention_days: int  # configuration snapshots and history in the delivery bucket
    secret_rotation_days: int
    alerts_topic_arn: str


class ComplianceStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, props: ComplianceProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        self.props = props
        self.name_prefix = props.naming.prefix(props.short)
        service_linked_role = (f"arn:aws:iam::{self.account}:role/aws-service-role/config.amazonaws.com/"
                               "AWSServiceRoleForConfig")
        self.recorder = config.CfnConfigurationRecorder(
            self,
            "Recorder",
            name=self.name_prefix,
            role_arn=service_linked_role,
            recording_group=config.CfnConfigurationRecorder.RecordingGroupProperty(
                all_supported=True, include_global_resource_types=props.record_global_resources
            ),
        )
        self.key, self.bucket = self._delivery_bucket()
        self.channel = config.CfnDeliveryChannel(
            self,
            "DeliveryChannel",
            name=self.name_prefix,
            s3_bucket_name=self.bucket.bucket_name,
            s3_kms_key_arn=self.key.key_arn,
            config_snapshot_delivery_properties=config.CfnDeliveryChannel.ConfigSnapshotDeliveryPropertiesProperty(
                delivery_frequency="TwentyFour_Hours"
            ),
        )
        self.channel.node.add_dependency(self.bucket.policy or self.bucket)
        # A delivery channel needs its recorder to exist (NoAvailableConfigurationRecorder otherwise).
        self.channel.add_dependency(self.recorder)
        self.packs = [self._pack(pack.name, pack.body) for pack in load_packs()]
        self.rotation_rule = self._rule(
            ROTATION_RULE, "SECRETSMANAGER_SECRET_PERIODIC_ROTATION", OWN_RULE_SCOPES[ROTATION_RULE],
            {"maxDaysSinceRotation": str(props.secret_rotation_days)},
        )
        self.drift_role = self._drift_role()
        self.drift_rule = self._rule(
            DRIFT_RULE, "CLOUDFORMATION_STACK_DRIFT_DETECTION_CHECK", OWN_RULE_SCOPES[DRIFT_RULE],
            {"cloudformationRoleArn": self.drift_role.role_arn},
        )
        events.Rule(
            self,
            "Overdue",
            description="A secret's rotation is overdue, or a stack drifted from its template",
            event_pattern=events.EventPattern(
                source=["aws.config"],
                detail_type=["Config Rules Compliance Change"],
                detail={
                    "configRuleName": [rule.config_rule_name for rule in (self.rotation_rule, self.drift_rule)],
                    "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
                },
            ),
            targets=[targets.SnsTopic(sns.Topic.from_topic_arn(self, "Alerts", props.alerts_topic_arn))],
        )

    def _delivery_bucket(self) -> tuple[kms.Key, s3.Bucket]:
        props = self.props
        key = kms.Key(
            self, "Key", description=f"Encrypts the {self.name_prefix} AWS Config deliveries",
            enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN,
        )
        this_account = {"StringEquals": {"aws:SourceAccount": self.account}}
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="ConfigEncryptsDeliveries", principals=[CONFIG], actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"], conditions=this_account,
        ))
        sink = access_log_sink(self, "ServerAccessLogs", props.retention_days)
        bucket = record_bucket(
            self, "Bucket", key=key, access_log_bucket=sink, log_prefix="config/",
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(props.retention_days),
                                              noncurrent_version_expiration=Duration.days(props.retention_days))],
        )
        # AWS Config's documented delivery permissions, for this account's recorder only.
        bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="ConfigChecksTheBucket", principals=[CONFIG], actions=["s3:GetBucketAcl", "s3:ListBucket"],
            resources=[bucket.bucket_arn], conditions=this_account,
        ))
        bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="ConfigDelivers", principals=[CONFIG], actions=["s3:PutObject"],
            resources=[bucket.arn_for_objects(f"AWSLogs/{self.account}/Config/*")],
            conditions={"StringEquals": {"aws:SourceAccount": self.account,
                                         "s3:x-amz-acl": "bucket-owner-full-control"}},
        ))
        return key, bucket

    def _pack(self, pack: str, body: str) -> config.CfnConformancePack:
        name = self.props.naming.conformance_pack_name(self.props.short, pack)
        conformance = config.CfnConformancePack(self, f"Pack-{pack}", conformance_pack_name=name, template_body=body)
        conformance.add_dependency(self.recorder)
        conformance.add_dependency(self.channel)
        return conformance

    def _rule(self, name: str, identifier: str, resource_type: str, parameters: dict[str, str]) -> config.CfnConfigRule:
        rule = config.CfnConfigRule(
            self,
            f"Rule-{name}",
            config_rule_name=self.props.naming.config_rule_name(self.props.short, name),
            source=config.CfnConfigRule.SourceProperty(owner="AWS", source_identifier=identifier),
            scope=config.CfnConfigRule.ScopeProperty(compliance_resource_types=[resource_type]),
            input_parameters=parameters,
            maximum_execution_frequency="TwentyFour_Hours" if resource_type.endswith("Stack") else None,
        )
        rule.add_dependency(self.recorder)
        return rule

    def _drift_role(self) -> iam.Role:
        """The role AWS Config detects drift with: drift detection reads every resource of a stack through its own
        service's API, which only a read-only policy over all services covers (AWS's documented choice)."""
        detect = iam.ManagedPolicy(
            self, "DriftDetection", description="AWS Config: detect CloudFormation drift",
            statements=[iam.PolicyStatement(
                actions=["cloudformation:DetectStackDrift", "cloudformation:DetectStackResourceDrift",
                         "cloudformation:DescribeStackDriftDetectionStatus",
                         "cloudformation:DescribeStackResourceDrifts", "cloudformation:DescribeStacks"],
                # Pseudo-parameters, not the literal region and account: one finding id in every environment.
                resources=[f"arn:{Aws.PARTITION}:cloudformation:{Aws.REGION}:{Aws.ACCOUNT_ID}:stack/*"],
            )],
        )
        return iam.Role(
            self, "DriftRole", assumed_by=CONFIG, description="AWS Config: detect CloudFormation drift",
            managed_policies=[detect, iam.ManagedPolicy.from_aws_managed_policy_name("ReadOnlyAccess")],
        )
