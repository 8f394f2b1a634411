"""The region's CloudWatch dashboard: traffic, errors, latency against the SLO, capacity, data tier, edge defence.

Written with the CloudWatch L2 widgets rather than cdk-monitoring-constructs: that library's facade creates its
own alarms with its own thresholds and names, while ours must come from policies/slo.yaml and feed ECS rollback;
what is left for it to do here (a dozen graphs) is less code than adapting it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from policies.slo import ServiceLevelObjectives

PERIOD = Duration.minutes(1)
WIDTH = 8  # three graphs per row of 24


@dataclass(frozen=True, kw_only=True)
class DashboardProps:
    name: str
    slo: ServiceLevelObjectives
    load_balancer: elbv2.ApplicationLoadBalancer
    target_groups: Sequence[elbv2.ApplicationTargetGroup]
    service: ecs.BaseService
    cluster_name: str
    database_instance_id: str
    replica: bool
    cache_node_ids: Sequence[str]
    web_acl_name: str
    region: str
    alarms: Sequence[cloudwatch.IAlarm]
    deployment_events_log_group: str


def _metric(namespace: str, name: str, dimensions: dict[str, str], statistic: str = "Average") -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=namespace, metric_name=name, dimensions_map=dimensions, statistic=statistic, period=PERIOD
    )


def _graph(title: str, metrics: Sequence[cloudwatch.IMetric], *, line: tuple[float, str] | None = None
           ) -> cloudwatch.GraphWidget:
    annotations = [cloudwatch.HorizontalAnnotation(value=line[0], label=line[1])] if line else None
    return cloudwatch.GraphWidget(
        title=title, left=list(metrics), width=WIDTH, left_annotations=annotations, period=PERIOD
    )


class ServiceDashboard(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: DashboardProps) -> None:
        super().__init__(scope, id_)
        lb, slo = props.load_balancer.metrics, props.slo
        database = {"DBInstanceIdentifier": props.database_instance_id}
        data_tier = [
            _metric("AWS/RDS", "CPUUtilization", database),
            _metric("AWS/RDS", "DatabaseConnections", database),
        ]
        if props.replica:
            data_tier.append(_metric("AWS/RDS", "ReplicaLag", database, "Maximum"))
        cache_hit_rate = cloudwatch.MathExpression(
            expression="AVG([" + ", ".join(f"n{i}" for i in range(len(props.cache_node_ids))) + "])",
            using_metrics={
                f"n{i}": _metric("AWS/ElastiCache", "CacheHitRate", {"CacheClusterId": node})
                for i, node in enumerate(props.cache_node_ids)
            },
            label="cache hit rate (%)",
            period=PERIOD,
        )
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=props.name,
            widgets=[
                [
                    cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(props.alarms), width=24),
                ],
                [
                    _graph("Requests per minute", [lb.request_count(period=PERIOD)]),
                    _graph(
                        "5xx per minute",
                        [
                            lb.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=PERIOD),
                            lb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=PERIOD),
                        ],
                    ),
                    _graph(
                        "Latency (s): p50, p95, p99",
                        [lb.target_response_time(period=PERIOD, statistic=p) for p in ("p50", "p95", "p99")],
                        line=(slo.latency_p99_ms / 1000, "p99 objective"),
                    ),
                ],
                [
                    _graph(
                        "Healthy targets",
                        [
                            # Dimensions from the full-name attributes: the L2 helper derives the load balancer
                            # from the listener ARN with Fn::Split, which a cross-stack value cannot go through.
                            _metric(
                                "AWS/ApplicationELB",
                                "HealthyHostCount",
                                {"TargetGroup": tg.target_group_full_name,
                                 "LoadBalancer": props.load_balancer.load_balancer_full_name},
                                "Minimum",
                            )
                            for tg in props.target_groups
                        ],
                    ),
                    _graph(
                        "ECS CPU and memory (%)",
                        [props.service.metric_cpu_utilization(period=PERIOD),
                         props.service.metric_memory_utilization(period=PERIOD)],
                    ),
                    _graph("Database: CPU (%), connections, replica lag (s)", data_tier,
                           line=(slo.replica_lag_seconds, "lag objective") if props.replica else None),
                ],
                [
                    _graph("Cache hit rate (%)", [cache_hit_rate]),
                    _graph(
                        "WAF blocked requests",
                        [_metric("AWS/WAFV2", "BlockedRequests",
                                 {"WebACL": props.web_acl_name, "Region": props.region, "Rule": "ALL"}, "Sum")],
                    ),
                    cloudwatch.LogQueryWidget(
                        title="Deployment events",
                        log_group_names=[props.deployment_events_log_group],
                        query_lines=[
                            "fields @timestamp, detail.eventName, detail.deploymentId, detail.reason",
                            "sort @timestamp desc",
                            "limit 20",
                        ],
                        width=WIDTH,
                    ),
                ],
            ],
        )
