"""Route 53 regional failover: a health check per region's load balancer, alarms on them, and the failover name.

``origin.<domain>`` answers with the primary region's load balancer while its health check passes and its targets
are healthy, and with the secondary's otherwise. CloudFront uses that name as its origin, so edge traffic follows
failover without touching the distribution. ``<region>.<domain>`` names each load balancer directly for the
health checkers (with SNI, so the listener presents the right certificate) and for operators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import jsii
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_sns as sns
from constructs import Construct

from policies.slo import ServiceLevelObjectives
from stacks.alarm_catalog import ROUTE53_HEALTH
from stacks.naming import health_check_id

ORIGIN_LABEL = "origin"


@dataclass(frozen=True, kw_only=True)
class RegionalOrigin:
    region: str
    role: Literal["PRIMARY", "SECONDARY"]
    load_balancer: elbv2.IApplicationLoadBalancer
    alarm_prefix: str  # "<project>-<env>-<region short>", as the region's other alarms


@dataclass(frozen=True, kw_only=True)
class HealthCheckSettings:
    path: str
    interval_seconds: int
    failure_threshold: int


@dataclass(frozen=True, kw_only=True)
class FailoverProps:
    zone: route53.IHostedZone
    domain_name: str
    origins: Sequence[RegionalOrigin]
    health: HealthCheckSettings
    alarm_topic: sns.ITopic
    slo: ServiceLevelObjectives

    def __post_init__(self) -> None:
        roles = sorted(o.role for o in self.origins)
        if roles != ["PRIMARY", "SECONDARY"]:
            raise ValueError(f"failover needs exactly one PRIMARY and one SECONDARY origin, got {roles}")


def origin_name(domain_name: str) -> str:
    return f"{ORIGIN_LABEL}.{domain_name}"


def regional_name(region: str, domain_name: str) -> str:
    return f"{region}.{domain_name}"


@jsii.implements(route53_targets.IAliasRecordTargetProps)
class _EvaluateTargetHealth:
    """A failover alias must evaluate target health; the Python binding needs a jsii interface for that."""

    @property
    def evaluate_target_health(self) -> bool:
        return True


class FailoverRouting(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: FailoverProps) -> None:
        super().__init__(scope, id_)
        self.origin_name = origin_name(props.domain_name)
        for origin in props.origins:
            self._region(props, origin)

    def _region(self, props: FailoverProps, origin: RegionalOrigin) -> None:
        health = props.health
        name = regional_name(origin.region, props.domain_name)
        target = route53.RecordTarget.from_alias(
            # A jsii interface implementation, which mypy cannot match structurally to the protocol.
            route53_targets.LoadBalancerTarget(origin.load_balancer, _EvaluateTargetHealth())  # type: ignore[arg-type]
        )
        route53.ARecord(self, f"Regional-{origin.region}", zone=props.zone, record_name=name, target=target)
        check = route53.HealthCheck(
            self,
            health_check_id(origin.region),
            type=route53.HealthCheckType.HTTPS,
            fqdn=name,
            port=443,
            enable_sni=True,
            resource_path=health.path,
            request_interval=Duration.seconds(health.interval_seconds),
            failure_threshold=health.failure_threshold,
        )
        route53.ARecord(
            self,
            f"Failover-{origin.region}",
            zone=props.zone,
            record_name=self.origin_name,
            target=target,
            failover=route53.Failover[origin.role],
            set_identifier=origin.region,
            health_check=check,
        )
        spec = ROUTE53_HEALTH
        alarm = cloudwatch.Alarm(
            self,
            f"Unhealthy-{origin.region}",
            alarm_name=f"{origin.alarm_prefix}-{spec.key}",
            alarm_description=f"{spec.rule(props.slo)} for {name}{health.path} ({origin.role.lower()}). {spec.meaning}",
            metric=cloudwatch.Metric(
                namespace="AWS/Route53",
                metric_name="HealthCheckStatus",
                dimensions_map={"HealthCheckId": check.health_check_id},
                statistic="Minimum",
                period=Duration.minutes(1),
            ),
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            threshold=1,
            evaluation_periods=1,
            # No data means the checkers stopped reporting; that is not healthy.
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(props.alarm_topic))
        alarm.add_ok_action(cloudwatch_actions.SnsAction(props.alarm_topic))
