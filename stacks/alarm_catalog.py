"""Every alarm the app creates: its name, where its threshold comes from, what it means, and the first response.

The stacks take names and descriptions from here, and ``docs/monitoring.md`` is rendered from here
(``python -m stacks.alarm_catalog > docs/monitoring.md``; a test fails when the committed file differs, and another
when a synthesized alarm is missing from this catalog), so the runbook table cannot drift from the code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from policies.slo import ServiceLevelObjectives, SloCatalog, load_slo

# Fast burn of the error budget (Google SRE workbook): 14.4 times the budget rate for an hour spends 2 % of a
# 30-day budget, which is worth waking someone for.
BURN_RATE = 14.4
BURN_WINDOW_MINUTES = 60

Where = Literal["each region", "secondary region", "global (us-east-1)"]


@dataclass(frozen=True, kw_only=True)
class AlarmSpec:
    key: str  # suffix of the alarm name, after "<project>-<env>-<region>-"
    stack: str
    where: Where
    source: str  # which SLO field (or config key) sets the threshold
    rule: Callable[[ServiceLevelObjectives], str]  # the alarm condition, with the environment's numbers
    meaning: str
    first_response: str
    escalation: str  # who is next when the first response does not clear it (docs/runbooks/incident-response.md)

    def description(self, slo: ServiceLevelObjectives) -> str:
        """The alarm's own description: the condition, then the meaning (CloudWatch shows it in notifications)."""
        return f"{self.rule(slo)}. {self.meaning}"[:1024]


def threshold_alarm(
    scope: Construct,
    id_: str,
    spec: AlarmSpec,
    *,
    name_prefix: str,
    description: str,
    metric: cloudwatch.IMetric,
    threshold: float,
    periods: int,
    datapoints: int,
    missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
) -> cloudwatch.Alarm:
    """A catalogued "above the objective" alarm, named ``<name_prefix>-<key>``, as every SLO alarm is."""
    return cloudwatch.Alarm(
        scope,
        id_,
        alarm_name=f"{name_prefix}-{spec.key}",
        alarm_description=description,
        metric=metric,
        threshold=threshold,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=periods,
        datapoints_to_alarm=datapoints,
        treat_missing_data=missing,
    )


def majority(periods: int) -> int:
    """Datapoints to alarm: a majority of the window, so a canary bake sees a sustained breach before it ends."""
    return periods // 2 + 1


def _majority_of_window(slo: ServiceLevelObjectives) -> str:
    return f"{majority(slo.evaluation_window_minutes)} of {slo.evaluation_window_minutes} minutes"


def burn_min_requests(slo: ServiceLevelObjectives) -> float:
    """The SLO's sample floor scaled to the burn window: fewer requests than that are not judged."""
    return slo.min_requests_per_window * BURN_WINDOW_MINUTES / slo.evaluation_window_minutes


def burn_threshold_percent(slo: ServiceLevelObjectives) -> float:
    return round(BURN_RATE * slo.error_budget_percent, 4)


ERROR_RATE = AlarmSpec(
    key="5xx-rate",
    escalation=(
        "Not cleared 15 minutes after ECS's rollback, or above 5 % at any time: page the incident commander "
        "(SEV-2; SEV-1 in prod when both regions alarm) and follow docs/runbooks/incident-response.md."
    ),
    stack="Service",
    where="each region",
    source="error_rate_5xx_percent, evaluation_window_minutes, min_requests_per_window",
    rule=lambda s: (
        f"5xx share of load balancer requests > {s.error_rate_5xx_percent:g} % in {_majority_of_window(s)} "
        f"(minutes under {s.min_requests_per_window / s.evaluation_window_minutes:g} requests not judged)"
    ),
    meaning="Callers are getting server errors; during a rollout ECS rolls the deployment back on this alarm.",
    first_response=(
        "If a deployment is in progress, confirm ECS rolled it back (`aws ecs describe-services`, deployments). "
        "Otherwise check `/ready` of the targets and the database and cache graphs; if the region's database is "
        "lost, fail over (promote the replica in the other region)."
    ),
)
LATENCY_P99 = AlarmSpec(
    key="latency-p99",
    escalation=(
        "Still in ALARM after 30 minutes, or with `5xx-rate` also in ALARM: the service owner on call, then the "
        "incident commander (SEV-3, SEV-2 in prod)."
    ),
    stack="Service",
    where="each region",
    source="latency_p99_ms",
    rule=lambda s: f"target response time p99 > {s.latency_p99_ms:g} ms in {_majority_of_window(s)}",
    meaning="The slowest 1 % of requests are slower than the objective; rollouts roll back on it.",
    first_response=(
        "Compare with the deployment events widget; check RDS CPU/connections and the cache hit rate; look for "
        "slow queries in the database log group (statements over 1 s are logged)."
    ),
)
UNHEALTHY_HOSTS = AlarmSpec(
    key="unhealthy-hosts",
    escalation=(
        "Half the targets or more unhealthy: page the incident commander (SEV-2); a lost database escalates to "
        "the failover decision in docs/runbooks/failover.md."
    ),
    stack="Service",
    where="each region",
    source="unhealthy_hosts_max",
    rule=lambda s: f"unhealthy targets in either target group > {s.unhealthy_hosts_max} in {_majority_of_window(s)}",
    meaning="Tasks fail their readiness check (`/ready`: database unreachable or the app not started).",
    first_response=(
        "Read the failing tasks' logs (stopped reason, `/ready` body); check the database security group and the "
        "secret's last rotation; ECS replaces failing tasks and rolls back a rollout on this alarm."
    ),
)
LATENCY_P95 = AlarmSpec(
    key="latency-p95",
    escalation=(
        "Ticket for the service owner in business hours; escalate with `latency-p99` or `availability-burn` in ALARM."
    ),
    stack="Observability",
    where="each region",
    source="latency_p95_ms",
    rule=lambda s: f"target response time p95 > {s.latency_p95_ms:g} ms in {_majority_of_window(s)}",
    meaning="Typical requests are slower than the objective; capacity or a dependency is degraded.",
    first_response=(
        "Check ECS CPU/memory and scaling activity, RDS CPU and connections, cache hit rate; scale out the service "
        "(max_count) if CPU-bound."
    ),
)
AVAILABILITY_BURN = AlarmSpec(
    key="availability-burn",
    escalation=(
        "Burning faster than the budget allows: page the incident commander (SEV-2) and freeze releases (prod "
        "promotions wait) until the burn stops."
    ),
    stack="Observability",
    where="each region",
    source="availability_percent (error budget = 100 - availability)",
    rule=lambda s: (
        f"5xx share over {BURN_WINDOW_MINUTES} minutes > {burn_threshold_percent(s):g} % "
        f"({BURN_RATE:g} x the {s.error_budget_percent:g} % error budget), judged only with at least "
        f"{burn_min_requests(s):g} requests in the hour"
    ),
    meaning=(
        "The availability objective's error budget burns fast enough to spend 2 % of a 30-day budget in an hour."
    ),
    first_response=(
        "Treat as an incident: find the failing dependency (database, cache, secrets) from the dashboard; if the "
        "region cannot recover within the RTO, start the failover runbook."
    ),
)
REPLICA_LAG = AlarmSpec(
    key="replica-lag",
    escalation=(
        "Lag above the RPO for 15 minutes: the database owner on call (SEV-3); during an incident it bounds data "
        "loss, so the incident commander decides any failover with it (docs/runbooks/replica-promotion.md)."
    ),
    stack="Observability",
    where="secondary region",
    source="replica_lag_seconds, replica_lag_alarm_minutes (validated within rpo_minutes)",
    rule=lambda s: (
        f"RDS ReplicaLag of the cross-region replica > {s.replica_lag_seconds:g} s for "
        f"{s.replica_lag_alarm_minutes} minutes, or no data"
    ),
    meaning=(
        "A failover now could lose more writes than the lag objective allows (RPO is the hard limit); no data "
        "means replication stopped."
    ),
    first_response=(
        "Check the replica's events (EventBridge rule to the topic) and the primary's write load; if replication "
        "stopped, open a ticket with AWS and re-create the replica from the primary after the incident."
    ),
)
WRITES_PAUSED = AlarmSpec(
    key="writes-paused",
    escalation=(
        "Paused for longer than the switchover plan says, or with nobody switching over: the SRE who set it, then "
        "the incident commander (writes are down for every user)."
    ),
    stack="Service",
    where="each region",
    source="the read_only flag (AppConfig)",
    rule=lambda s: (
        f"at least one write refused by the read_only flag in the last {s.evaluation_window_minutes} minutes, the "
        "5xx-rate window (Records/Service WritesPaused)"
    ),
    meaning=(
        "Writes are paused on purpose for a planned switchover (docs/runbooks/replica-promotion.md); OK again "
        "means they resumed. It keeps the intended 503s out of the flags' rollback monitor (5xx-not-paused)."
    ),
    first_response=(
        "Check that a switchover is under way; if none is, clear the flag: `python -m ops read-only off "
        "--target aws --env <env>`."
    ),
)
FAILING_NOT_PAUSED = AlarmSpec(
    key="5xx-not-paused",
    escalation="As for 5xx-rate; a flag change it rolled back needs nothing more.",
    stack="Service",
    where="each region",
    source="composite of 5xx-rate and writes-paused",
    rule=lambda s: "ALARM when 5xx-rate is in ALARM and writes-paused is not",
    meaning=(
        "The feature flags' rollback monitor (with latency-p99 and unhealthy-hosts): AppConfig rolls a flag "
        "change back on it, but not the end of a planned pause, whose 503s are intended."
    ),
    first_response="Follow 5xx-rate; AppConfig has rolled back the flag change that was deploying, if any.",
)
COMPOSITE_MEMBERS = (ERROR_RATE, LATENCY_P99, UNHEALTHY_HOSTS, AVAILABILITY_BURN)
_MEMBER_KEYS = ", ".join(spec.key for spec in COMPOSITE_MEMBERS)
SERVICE_UNHEALTHY = AlarmSpec(
    key="service-unhealthy",
    escalation=(
        "This is the paging alarm: the on-call SRE acknowledges within 5 minutes, else the secondary on-call; "
        "declare an incident (docs/runbooks/incident-response.md)."
    ),
    stack="Observability",
    where="each region",
    source=f"composite of {_MEMBER_KEYS}",
    rule=lambda s: f"ALARM when any of {_MEMBER_KEYS} is in ALARM",
    meaning="The one alarm to page on: the region's service is not meeting its objectives.",
    first_response="Follow the first response of the member alarm(s) in ALARM; declare an incident.",
)
ROUTE53_HEALTH = AlarmSpec(
    key="route53-health",
    escalation=(
        "Primary region unhealthy from the outside: page the incident commander (SEV-1 in prod); decide failover "
        "per docs/runbooks/failover.md."
    ),
    stack="Edge",
    where="global (us-east-1)",
    source="dns.health_check_* (cdk.json)",
    rule=lambda s: "Route 53 HealthCheckStatus < 1 for one minute, or no data",
    meaning=(
        "Route 53 health checkers cannot reach `<region>.<domain>/health`; when it is the primary, traffic is "
        "failing over to the secondary."
    ),
    first_response=(
        "Confirm where `origin.<domain>` resolves; if the primary is down, promote the replica in the secondary "
        "(`aws rds promote-read-replica --db-instance-identifier <project>-<env>-use2`) so writes resume, and "
        "watch the secondary's service-unhealthy alarm."
    ),
)

CATALOG: tuple[AlarmSpec, ...] = (
    ERROR_RATE, LATENCY_P99, UNHEALTHY_HOSTS, WRITES_PAUSED, FAILING_NOT_PAUSED, LATENCY_P95, AVAILABILITY_BURN,
    REPLICA_LAG, SERVICE_UNHEALTHY, ROUTE53_HEALTH,
)

RDS_EVENT_CATEGORIES = ("failover", "failure", "read replica", "recovery")
ROLLBACK_REASONS = ("*rolling back*", "*rollback*")
EVENT_RULES: Mapping[str, str] = {
    "ECS deployment failed or rolled back": (
        "`aws.ecs` *ECS Deployment State Change* for this region's service: `SERVICE_DEPLOYMENT_FAILED`, or "
        f"`SERVICE_DEPLOYMENT_IN_PROGRESS` whose reason matches {' or '.join(ROLLBACK_REASONS)} -> alerts topic"
    ),
    "RDS failover, failure, replication or recovery event": (
        f"`aws.rds` *RDS DB Instance Event* in categories {', '.join(RDS_EVENT_CATEGORIES)}, for this region's "
        "instance (by ARN) -> alerts topic"
    ),
    "ECS deployment events (all)": "every *ECS Deployment State Change* -> a log group shown on the dashboard",
    "Secret rotation overdue or stack drifted (`Compliance` stack)": (
        "`aws.config` *Config Rules Compliance Change* to NON_COMPLIANT of `secret-rotation-overdue` (a secret "
        "not rotated within `operations.secret_rotation_days`; runbooks `cache-token-rotation.md`, "
        "`origin-secret-rotation.md`) or `stack-drift` (a stack changed outside CloudFormation: find who in "
        "CloudTrail, then revert it or redeploy) -> alerts topic"
    ),
}


def render(catalog: SloCatalog) -> str:
    """docs/monitoring.md: the alarm table with each environment's thresholds."""
    envs = sorted(catalog.environments) if catalog.environments else []
    names = ["defaults", *envs]
    objectives = {"defaults": catalog.for_env("__defaults__"), **{e: catalog.for_env(e) for e in envs}}
    lines = [
        "# Monitoring: alarms, first response and escalation",
        "",
        "<!-- Generated by `python -m stacks.alarm_catalog > docs/monitoring.md`; tests fail when it drifts. -->",
        "",
        "Every alarm notifies the region's KMS-encrypted alerts topic (`<project>-<env>-<region>-alerts`) on ALARM",
        "and OK. Thresholds come from `policies/slo.yaml` (defaults, overridden per environment). Names are",
        "`<project>-<env>-<region>-<key>`; each region's dashboard is `<project>-<env>-<region>`.",
        "",
    ]
    for spec in CATALOG:
        lines += [
            f"## `{spec.key}` ({spec.where}, `{spec.stack}` stack)",
            "",
            f"- Meaning: {spec.meaning}",
            f"- Threshold source: `{spec.source}`",
        ]
        lines += [f"- {name}: {spec.rule(objectives[name])}" for name in names]
        lines += [f"- First response: {spec.first_response}", f"- Escalation: {spec.escalation}", ""]
    lines += ["## Events routed to the alerts topic", ""]
    lines += [f"- {name}: {route}" for name, route in EVENT_RULES.items()]
    lines += [
        "",
        "Error budgets: "
        + ", ".join(
            f"{name} {objectives[name].error_budget_percent:g} % ({objectives[name].error_budget_minutes_per_30_days:g}"
            " min per 30 days)"
            for name in names
        )
        + ".",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - exercised through the drift test's render()
    import argparse

    description = "Print docs/monitoring.md from the alarm catalog and policies/slo.yaml."
    argparse.ArgumentParser(prog="python -m stacks.alarm_catalog", description=description).parse_args()
    sys.stdout.write(render(load_slo()))
