"""The service's feature flags in AWS AppConfig: one application, environment and hosted freeform profile per
environment and region, with the flags' JSON schema as the profile's validator.

Two deployment strategies, because the flags have two kinds of change:

- **gradual** (linear, watched by the service's deployment alarms, which roll a bad change back): normal
  changes such as ``inject_latency`` or new defaults from the stack.
- **all at once, no bake**: ``read_only`` during a planned switchover. Its 503s are intended and would trip the
  5xx alarm; with no deployment time and no bake the monitors have no window in which to roll the pause back
  while the replica catches up (docs/runbooks/replica-promotion.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_appconfig as appconfig
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct

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


@dataclass(frozen=True, kw_only=True)
class FlagStoreProps:
    name: str  # the environment and region, e.g. records-prod-use1
    rollback_alarms: Sequence[cloudwatch.IAlarm]


class FlagStore(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: FlagStoreProps) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.application = appconfig.Application(
            self, "Application", application_name=props.name, description="The records service's feature flags"
        )
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
                    resources=[alarm.alarm_arn for alarm in props.rollback_alarms],
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
                for alarm in props.rollback_alarms
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
