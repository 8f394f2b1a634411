"""Observability of one region: SLO alarms beyond the deployment ones, the composite "service unhealthy" alarm,
event rules for deployment failures and database failovers, the dashboard, and X-Ray sampling.

Every threshold comes from the region's ``ServiceLevelObjectives``; names and descriptions from
``stacks.alarm_catalog``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jsii
from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_xray as xray
from constructs import Construct
from typing_extensions import Unpack

from policies.slo import ServiceLevelObjectives
from stacks import alarm_catalog as catalog
from stacks.dashboard import DashboardProps, ServiceDashboard
from stacks.keys import imported_key
from stacks.logging import encrypted_log_group
from stacks.stack_args import StackArgs

PERIOD = Duration.minutes(1)


@dataclass(frozen=True, kw_only=True)
class ObservabilityProps:
    name_prefix: str  # "<project>-<env>-<region short>"
    service_name: str  # the service's name in traces (OTel service.name)
    slo: ServiceLevelObjectives
    topic_arn: str
    telemetry_key_arn: str
    log_retention_days: int
    load_balancer: elbv2.ApplicationLoadBalancer
    target_groups: Sequence[elbv2.ApplicationTargetGroup]
    service: ecs.BaseService
    cluster_name: str
    deployment_alarms: Mapping[str, cloudwatch.IAlarm]  # the service's 5xx, p99, unhealthy-hosts, by catalog key
    database_instance_id: str
    database_arn: str  # RDS events name the instance by ARN in `resources`
    replica: bool  # this region's database is the cross-region read replica
    cache_node_ids: Sequence[str]
    web_acl_name: str
    trace_sampling_percent: float


@jsii.implements(events.IRuleTarget)
class _LogGroupTarget:
    """A rule target by ARN. CDK's CloudWatchLogGroup target writes the log resource policy through a helper
    Lambda; this stack declares that policy itself (``AWS::Logs::ResourcePolicy``) and needs no function."""

    def __init__(self, arn: str) -> None:
        self._arn = arn

    def bind(self, _rule: object, _id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._arn)


class ObservabilityStack(Stack):
    def __init__(
        self, scope: Construct, id_: str, *, props: ObservabilityProps, **stack_args: Unpack[StackArgs]
    ) -> None:
        super().__init__(scope, id_, **stack_args)
        self.props = props
        # Imported: the alerts stack's policy already admits CloudWatch and EventBridge, and a target bound to the
        # construct itself would add statements to that stack from here.
        self.topic = sns.Topic.from_topic_arn(self, "Alerts", props.topic_arn)
        slo = props.slo
        lb = props.load_balancer.metrics
        self.latency_p95 = self._alarm(
            catalog.LATENCY_P95,
            lb.target_response_time(period=PERIOD, statistic="p95"),
            threshold=slo.latency_p95_ms / 1000,
            periods=slo.evaluation_window_minutes,
            datapoints=catalog.majority(slo.evaluation_window_minutes),
        )
        self.availability_burn = self._alarm(
            catalog.AVAILABILITY_BURN,
            self._burn_rate_metric(),
            threshold=catalog.burn_threshold_percent(slo),
            periods=1,
            datapoints=1,
        )
        self.replica_lag = (
            self._alarm(
                catalog.REPLICA_LAG,
                cloudwatch.Metric(
                    namespace="AWS/RDS",
                    metric_name="ReplicaLag",
                    dimensions_map={"DBInstanceIdentifier": props.database_instance_id},
                    statistic="Maximum",
                    period=PERIOD,
                ),
                threshold=slo.replica_lag_seconds,
                periods=slo.replica_lag_alarm_minutes,
                datapoints=slo.replica_lag_alarm_minutes,
                # A replica that stops reporting lag has stopped replicating.
                missing=cloudwatch.TreatMissingData.BREACHING,
            )
            if props.replica
            else None
        )
        by_key = {catalog.AVAILABILITY_BURN.key: self.availability_burn, **props.deployment_alarms}
        self.service_unhealthy = self._composite([by_key[spec.key] for spec in catalog.COMPOSITE_MEMBERS])
        events_log = self._event_rules()
        alarms: list[cloudwatch.IAlarm] = [
            self.service_unhealthy, *props.deployment_alarms.values(), self.latency_p95, self.availability_burn
        ]
        if self.replica_lag is not None:
            alarms.append(self.replica_lag)
        self.dashboard = ServiceDashboard(
            self,
            "Dashboard",
            props=DashboardProps(
                name=props.name_prefix,
                slo=slo,
                load_balancer=props.load_balancer,
                target_groups=props.target_groups,
                service=props.service,
                cluster_name=props.cluster_name,
                database_instance_id=props.database_instance_id,
                replica=props.replica,
                cache_node_ids=props.cache_node_ids,
                web_acl_name=props.web_acl_name,
                region=self.region,
                alarms=alarms,
                deployment_events_log_group=events_log,
            ),
        )
        self._tracing()

    def _burn_rate_metric(self) -> cloudwatch.MathExpression:
        lb = self.props.load_balancer.metrics
        window = Duration.minutes(catalog.BURN_WINDOW_MINUTES)
        # Missing 5xx series mean none happened (the load balancer publishes only non-zero counts); an hour with
        # fewer requests than the SLO's sample floor (scaled to the hour) is not judged.
        return cloudwatch.MathExpression(
            expression=(
                f"IF(FILL(requests, 0) >= {catalog.burn_min_requests(self.props.slo):g}, "
                "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)"
            ),
            using_metrics={
                "target5xx": lb.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=window),
                "elb5xx": lb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=window),
                "requests": lb.request_count(period=window),
            },
            label=f"5xx share over {catalog.BURN_WINDOW_MINUTES} min (%)",
            period=window,
        )

    def _alarm(
        self,
        spec: catalog.AlarmSpec,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        periods: int,
        datapoints: int,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> cloudwatch.Alarm:
        alarm = catalog.threshold_alarm(
            self,
            spec.key,
            spec,
            name_prefix=self.props.name_prefix,
            description=spec.description(self.props.slo),
            metric=metric,
            threshold=threshold,
            periods=periods,
            datapoints=datapoints,
            missing=missing,
        )
        self._notify(alarm)
        return alarm

    def _composite(self, members: Sequence[cloudwatch.IAlarm]) -> cloudwatch.CompositeAlarm:
        spec = catalog.SERVICE_UNHEALTHY
        alarm = cloudwatch.CompositeAlarm(
            self,
            spec.key,
            composite_alarm_name=f"{self.props.name_prefix}-{spec.key}",
            alarm_description=spec.description(self.props.slo),
            alarm_rule=cloudwatch.AlarmRule.any_of(
                *[cloudwatch.AlarmRule.from_alarm(member, cloudwatch.AlarmState.ALARM) for member in members]
            ),
        )
        self._notify(alarm)
        return alarm

    def _notify(self, alarm: cloudwatch.AlarmBase) -> None:
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
        alarm.add_ok_action(cloudwatch_actions.SnsAction(self.topic))

    def _event_rules(self) -> str:
        """Deployment failures and database events to the topic; every deployment event to a log group that the
        dashboard queries. Returns that log group's name."""
        props = self.props
        events.Rule(
            self,
            "DeploymentFailed",
            description="ECS deployment of this region's service failed or was rolled back",
            event_pattern=events.EventPattern(
                source=["aws.ecs"],
                detail_type=["ECS Deployment State Change"],
                resources=[props.service.service_arn],
                # Alarm-based rollbacks may surface as a deployment back in progress with a rollback reason rather
                # than as FAILED (that one is documented for the circuit breaker), so both are matched.
                detail={
                    "$or": [
                        {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]},
                        {
                            "eventName": ["SERVICE_DEPLOYMENT_IN_PROGRESS"],
                            "reason": [{"wildcard": pattern} for pattern in catalog.ROLLBACK_REASONS],
                        },
                    ]
                },
            ),
            targets=[targets.SnsTopic(self.topic)],
        )
        events.Rule(
            self,
            "DatabaseEvents",
            description="Failover, failure, replication and recovery events of this region's database",
            event_pattern=events.EventPattern(
                source=["aws.rds"],
                detail_type=["RDS DB Instance Event"],
                resources=[props.database_arn],
                detail={"EventCategories": list(catalog.RDS_EVENT_CATEGORIES)},
            ),
            targets=[targets.SnsTopic(self.topic)],
        )
        name = f"/aws/events/{props.name_prefix}-deployments"
        encrypted_log_group(
            self,
            "DeploymentEvents",
            key=imported_key(self, "TelemetryKey", props.telemetry_key_arn),
            retention_days=props.log_retention_days,
            log_group_name=name,
        )
        arn = f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}"
        logs.CfnResourcePolicy(
            self,
            "EventsWriteDeploymentLog",
            policy_name=f"{props.name_prefix}-deployment-events",
            policy_document=self.to_json_string(
                iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            principals=[
                                iam.ServicePrincipal("events.amazonaws.com"),
                                iam.ServicePrincipal("delivery.logs.amazonaws.com"),
                            ],
                            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                            resources=[f"{arn}:*"],
                        )
                    ]
                ).to_json()
            ),
        )
        events.Rule(
            self,
            "DeploymentEventsToLog",
            description="Every ECS deployment state change of this region's service, for the dashboard",
            event_pattern=events.EventPattern(
                source=["aws.ecs"],
                detail_type=["ECS Deployment State Change"],
                resources=[props.service.service_arn],
            ),
            targets=[_LogGroupTarget(arn)],
        )
        return name

    def _tracing(self) -> None:
        props = self.props
        xray.CfnSamplingRule(
            self,
            "SamplingRule",
            sampling_rule=xray.CfnSamplingRule.SamplingRuleProperty(
                rule_name=props.name_prefix,
                priority=100,
                # For X-Ray-aware samplers; the service's OpenTelemetry SDK applies the same configured rate through
                # OTEL_TRACES_SAMPLER (stacks.tracing_sidecar), so both say the same thing.
                reservoir_size=1,
                fixed_rate=props.trace_sampling_percent / 100,
                service_name=props.service_name,
                service_type="*",
                host="*",
                http_method="*",
                url_path="*",
                resource_arn="*",
                version=1,
            ),
        )
        xray.CfnGroup(
            self,
            "TraceGroup",
            group_name=props.name_prefix,
            filter_expression=f'service("{props.service_name}")',
            insights_configuration=xray.CfnGroup.InsightsConfigurationProperty(
                insights_enabled=True, notifications_enabled=False
            ),
        )
