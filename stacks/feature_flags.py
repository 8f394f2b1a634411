"""The service's feature flags in AWS AppConfig: one application, environment and hosted freeform profile per
environment and region, with the flags' JSON schema as the profile's validator.

Two deployment strategies, because the flags have two kinds of change:

- **gradual** (linear, watched by the service's deployment alarms, which roll a bad change back): normal
  changes such as ``inject_latency`` or new defaults from the stack.
- **all at once, no bake**: ``read_only`` during a planned switchover (docs/runbooks/replica-promotion.md).

read_only's 503s are intended, and they trip the 5xx-rate alarm. AppConfig rolls a deployment back while a monitor
is in ALARM, so with that alarm as a monitor, clearing the flag after a pause would be rolled back and writes
would stay paused. The monitor is therefore a composite: the 5xx rate in ALARM while no write was refused by the
flag (the service counts those as ``WritesPaused``, service/observability.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_appconfig as appconfig
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks import alarm_catalog as catalog
from stacks.roles import ManagedRole

# What the service reads (service/flags.py, Flags.parse): AppConfig's feature-flag shape, in a freeform profile.
FLAG_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["read_only", "inject_latency"],
    "properties": {
        "read_only": {
            "type": "object",
            "additionalProperties": False,
            "required": ["enabled"],
            "properties": {"enabled": {"type": "boolean"}},
        },
        "inject_latency": {
            "type": "object",
            "additionalProperties": False,
            "required": ["enabled"],
            "properties": {
                "enabled": {"type": "boolean"},
                # service/flags.py caps what it applies at MAX_INJECTED_LATENCY_MS; the profile refuses more.
                "ms": {"type": "integer", "minimum": 0, "maximum": 10_000},
            },
        },
    },
}
DEFAULT_FLAGS: dict[str, Any] = {"read_only": {"enabled": False}, "inject_latency": {"enabled": False, "ms": 0}}
# Gradual: a fifth of the tasks every 2 minutes over 10, then 5 more minutes under the alarms before it is final.
GRADUAL = appconfig.RolloutStrategy.linear(
    growth_factor=20, deployment_duration=Duration.minutes(10), final_bake_time=Duration.minutes(5)
)
IMMEDIATE = appconfig.RolloutStrategy.linear(
    growth_factor=100, deployment_duration=Duration.minutes(0), final_bake_time=Duration.minutes(0)
)
# The settings service/settings.py reads (APPCONFIG_APPLICATION, _ENVIRONMENT, _PROFILE).
SETTINGS = ("APPCONFIG_APPLICATION", "APPCONFIG_ENVIRONMENT", "APPCONFIG_PROFILE")


# The service's EMF metric of writes refused by read_only (service/observability.py: EMF_NAMESPACE, WRITES_PAUSED).
PAUSED_METRIC = ("Records/Service", "WritesPaused")


@dataclass(frozen=True, kw_only=True)
class FlagStoreProps:
    name: str  # the environment and region, e.g. records-prod-use1
    environment: str  # the service's APP_ENV, the metrics' Environment dimension
    error_rate: cloudwatch.IAlarm  # the 5xx-rate alarm
    other_rollback_alarms: Sequence[cloudwatch.IAlarm]  # latency, unhealthy hosts
    topic: sns.ITopic  # told when writes are paused and when they resume: a pause nobody ends is an outage
    descriptions: Mapping[str, str]  # the alarms' catalogued descriptions, by catalog key
    evaluation_periods: int  # the 5xx-rate alarm's window, in one-minute periods


class FlagStore(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: FlagStoreProps) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.application = appconfig.Application(
            self, "Application", application_name=props.name, description="The records service's feature flags"
        )
        rollback_alarms = [self._failing_not_paused(props), *props.other_rollback_alarms]
        # AppConfig reads the alarms' state with this role; its permission sits in a managed policy (IAM
        # packs refuse inline ones), scoped to exactly the monitored alarms.
        monitor_role = ManagedRole(
            self,
            "MonitorRole",
            assumed_by=iam.ServicePrincipal("appconfig.amazonaws.com"),
            description="AppConfig: read the rollback alarms' state during a flag deployment",
            statements=[
                iam.PolicyStatement(
                    actions=["cloudwatch:DescribeAlarms"],
                    resources=[alarm.alarm_arn for alarm in rollback_alarms],
                )
            ],
        )
        self.environment = appconfig.Environment(
            self,
            "Environment",
            application=self.application,
            environment_name=props.name,
            monitors=[
                appconfig.Monitor.from_cloud_watch_alarm(alarm, monitor_role.immutable)
                for alarm in rollback_alarms
            ],
        )
        self.gradual = appconfig.DeploymentStrategy(
            self, "Gradual", deployment_strategy_name=f"{props.name}-gradual", rollout_strategy=GRADUAL,
            description="Normal flag changes: linear, watched by the rollback alarms",
        )
        self.immediate = appconfig.DeploymentStrategy(
            self, "Immediate", deployment_strategy_name=f"{props.name}-immediate", rollout_strategy=IMMEDIATE,
            description="read_only only: at once, no bake (its 503s are intended)",
        )
        self.profile = appconfig.HostedConfiguration(
            self,
            "Flags",
            application=self.application,
            name="flags",
            type=appconfig.ConfigurationType.FREEFORM,
            content=appconfig.ConfigurationContent.from_inline_json(json.dumps(DEFAULT_FLAGS, sort_keys=True)),
            validators=[appconfig.JsonSchemaValidator.from_inline(json.dumps(FLAG_SCHEMA, sort_keys=True))],
            deploy_to=[self.environment],
            deployment_strategy=self.gradual,
        )
        self.configuration_arn = stack.format_arn(
            service="appconfig",
            resource="application",
            resource_name=(
                f"{self.application.application_id}/environment/{self.environment.environment_id}"
                f"/configuration/{self.profile.configuration_profile_id}"
            ),
        )

    def _failing_not_paused(self, props: FlagStoreProps) -> cloudwatch.CompositeAlarm:
        namespace, metric = PAUSED_METRIC
        self.writes_paused = cloudwatch.Alarm(
            self,
            "WritesPaused",
            alarm_name=f"{props.name}-{catalog.WRITES_PAUSED.key}",
            alarm_description=props.descriptions[catalog.WRITES_PAUSED.key],
            metric=cloudwatch.Metric(namespace=namespace, metric_name=metric, statistic="Sum",
                                     dimensions_map={"Environment": props.environment}, period=Duration.minutes(1)),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # As long as the 5xx-rate window: a refused write keeps this in ALARM for as long as its 503 can
            # keep 5xx-rate there, so the composite never fires on a pause's own 503s.
            evaluation_periods=props.evaluation_periods,
            datapoints_to_alarm=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        failing = cloudwatch.CompositeAlarm(
            self,
            "FailingNotPaused",
            composite_alarm_name=f"{props.name}-{catalog.FAILING_NOT_PAUSED.key}",
            alarm_description=props.descriptions[catalog.FAILING_NOT_PAUSED.key],
            alarm_rule=cloudwatch.AlarmRule.all_of(
                cloudwatch.AlarmRule.from_alarm(props.error_rate, cloudwatch.AlarmState.ALARM),
                cloudwatch.AlarmRule.not_(cloudwatch.AlarmRule.from_alarm(self.writes_paused,
                                                                          cloudwatch.AlarmState.ALARM)),
            ),
        )
        for alarm in (self.writes_paused, failing):
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(props.topic))
            alarm.add_ok_action(cloudwatch_actions.SnsAction(props.topic))
        return failing

    @property
    def settings(self) -> dict[str, str]:
        """The service's AppConfig settings: the ids of this store's application, environment and profile."""
        ids = (
            self.application.application_id,
            self.environment.environment_id,
            self.profile.configuration_profile_id,
        )
        return dict(zip(SETTINGS, ids, strict=True))

    def read_statement(self) -> iam.PolicyStatement:
        """What the service's task role needs to poll this store's flags, and nothing else."""
        return iam.PolicyStatement(
            actions=["appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration"],
            resources=[self.configuration_arn],
        )
