"""The alarms that stop and roll back an ECS deployment; thresholds come from policies/slo.yaml only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from constructs import Construct

from policies.slo import ServiceLevelObjectives
from stacks import alarm_catalog as catalog

PERIOD = Duration.minutes(1)


@dataclass(frozen=True, kw_only=True)
class AlarmThresholds:
    error_rate_5xx_percent: float
    latency_p99_seconds: float
    unhealthy_hosts_max: int
    evaluation_periods: int  # one-minute periods
    min_requests_per_minute: float
    descriptions: Mapping[str, str]  # by alarm catalog key

    @classmethod
    def from_slo(cls, slo: ServiceLevelObjectives) -> AlarmThresholds:
        return cls(
            error_rate_5xx_percent=slo.error_rate_5xx_percent,
            latency_p99_seconds=slo.latency_p99_ms / 1000,
            unhealthy_hosts_max=slo.unhealthy_hosts_max,
            evaluation_periods=slo.evaluation_window_minutes,
            min_requests_per_minute=slo.min_requests_per_window / slo.evaluation_window_minutes,
            descriptions={
                spec.key: spec.description(slo)
                for spec in (catalog.ERROR_RATE, catalog.LATENCY_P99, catalog.UNHEALTHY_HOSTS, catalog.WRITES_PAUSED,
                             catalog.FAILING_NOT_PAUSED)
            },
        )


class DeploymentAlarms(Construct):
    """5xx rate, p99 latency and unhealthy hosts; each notifies ``topic`` and is listed in ``alarms``.

    Missing data counts as not breaching: a quiet environment must not roll back a healthy deployment. The
    converse is the limit of alarm-based rollback: ECS rolls back only on ALARM, so a rollout that sees too
    little traffic during its bake is promoted unjudged. The deploy workflow therefore drives load during dev's
    and staging's bake (ops/bake.py, deploy-environment.yml's bake job) and treats a bake without a judged load
    run as inconclusive, never as a pass.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        thresholds: AlarmThresholds,
        load_balancer: elbv2.ApplicationLoadBalancer,
        target_groups: Sequence[elbv2.ApplicationTargetGroup],
        topic: sns.ITopic,
        name_prefix: str,
    ) -> None:
        super().__init__(scope, id_)
        lb = load_balancer.metrics
        # The load balancer publishes 5xx counts only for minutes that have some, and math over a missing
        # series yields no value, so each count is filled with 0. A minute with fewer requests than the SLO's
        # sample floor is not judged (0): one error in three requests must not roll back a release.
        error_rate = cloudwatch.MathExpression(
            expression=(
                f"IF(FILL(requests, 0) >= {thresholds.min_requests_per_minute:g}, "
                "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)"
            ),
            using_metrics={
                "target5xx": lb.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=PERIOD),
                "elb5xx": lb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=PERIOD),
                "requests": lb.request_count(period=PERIOD),
            },
            label="5xx rate (%)",
            period=PERIOD,
        )
        unhealthy = cloudwatch.MathExpression(
            expression="MAX([" + ", ".join(f"tg{i}" for i in range(len(target_groups))) + "])",
            using_metrics={
                f"tg{i}": tg.metrics.unhealthy_host_count(period=PERIOD, statistic="Maximum")
                for i, tg in enumerate(target_groups)
            },
            label="unhealthy targets",
            period=PERIOD,
        )
        self.error_rate = self._alarm(
            "ErrorRate", catalog.ERROR_RATE, name_prefix, error_rate, thresholds.error_rate_5xx_percent, thresholds
        )
        self.latency = self._alarm(
            "LatencyP99",
            catalog.LATENCY_P99,
            name_prefix,
            lb.target_response_time(period=PERIOD, statistic="p99"),
            thresholds.latency_p99_seconds,
            thresholds,
        )
        self.unhealthy_hosts = self._alarm(
            "UnhealthyHosts",
            catalog.UNHEALTHY_HOSTS,
            name_prefix,
            unhealthy,
            thresholds.unhealthy_hosts_max,
            thresholds,
        )
        self.alarms = (self.error_rate, self.latency, self.unhealthy_hosts)
        self.by_key = {
            catalog.ERROR_RATE.key: self.error_rate,
            catalog.LATENCY_P99.key: self.latency,
            catalog.UNHEALTHY_HOSTS.key: self.unhealthy_hosts,
        }
        for alarm in self.alarms:
            alarm.add_alarm_action(cw_actions.SnsAction(topic))
            alarm.add_ok_action(cw_actions.SnsAction(topic))

    def _alarm(
        self,
        id_: str,
        spec: catalog.AlarmSpec,
        name_prefix: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        thresholds: AlarmThresholds,
    ) -> cloudwatch.Alarm:
        return catalog.threshold_alarm(
            self,
            id_,
            spec,
            name_prefix=name_prefix,
            description=thresholds.descriptions[spec.key],
            metric=metric,
            threshold=threshold,
            periods=thresholds.evaluation_periods,
            datapoints=catalog.majority(thresholds.evaluation_periods),
        )
