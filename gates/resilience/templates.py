"""What the synthesized templates of one environment say about a region loss: the failover records and their
health checks, the edge's origin, both regions' task counts and scaling, the replica, its lag alarm, and the
backup plan. Values CloudFormation defaults are taken as documented when a template omits them."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gates.resilience.model import Budget, Term
from gates.resilience.runbooks import RunbookError, runbook_term
from policies.resilience import ResilienceEstimates
from policies.slo import ServiceLevelObjectives

Resource = Mapping[str, Any]
# Route 53's defaults when a health check leaves them out (HealthCheckConfig reference).
DEFAULT_REQUEST_INTERVAL_S, DEFAULT_FAILURE_THRESHOLD = 30, 3


class MissingInput(ValueError):
    """A template lacks what the budget needs (no failover record, no replica...): the budget cannot be judged."""


@dataclass(frozen=True)
class Assembly:
    """One environment's templates, by region: (logical id, resource) pairs."""

    env: str
    resources: Mapping[str, tuple[tuple[str, Resource], ...]]

    @classmethod
    def read(cls, directory: Path, env: str) -> Assembly:
        """:raise MissingInput: no cloud assembly for ``env`` under ``directory``."""
        manifest = directory / f"assembly-{env}" / "manifest.json"
        try:
            artifacts = json.loads(manifest.read_text())["artifacts"]
        except (OSError, ValueError, KeyError) as error:
            raise MissingInput(f"{manifest}: {type(error).__name__}: {error}; run make synth") from None
        found: dict[str, list[tuple[str, Resource]]] = {}
        for artifact in artifacts.values():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            try:
                region = str(artifact["environment"]).rsplit("/", 1)[-1]
                template = json.loads((manifest.parent / artifact["properties"]["templateFile"]).read_text())
                found.setdefault(region, []).extend(template["Resources"].items())
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
                raise MissingInput(f"{manifest}: a stack's template is unreadable ({type(error).__name__}: "
                                   f"{error}); run make synth") from None
        return cls(env, {region: tuple(items) for region, items in found.items()})

    def of_type(self, region: str, kind: str) -> Iterator[tuple[str, Resource]]:
        for logical_id, resource in self.resources.get(region, ()):
            if resource.get("Type") == kind:
                yield logical_id, resource


def _properties(resource: Resource) -> Mapping[str, Any]:
    return resource.get("Properties") or {}


def _one(found: list[tuple[str, Resource]], what: str, env: str) -> tuple[str, Resource]:
    if len(found) != 1:
        raise MissingInput(f"{env}: expected one {what}, found {len(found)}")
    return found[0]


def _alarm_delay(alarm: Mapping[str, Any], estimates: ResilienceEstimates) -> tuple[float, str]:
    period = float(alarm.get("Period", 60))
    datapoints = int(alarm.get("DatapointsToAlarm") or alarm.get("EvaluationPeriods") or 1)
    delay = estimates.seconds("alarm_evaluation_delay_seconds")
    return period * datapoints + delay, f"{datapoints} × {period:g} s datapoints + {delay:g} s to publish"


def _pages(alarm: Mapping[str, Any], comparison: str) -> bool:
    """Compares the way that detects the failure, and tells someone when it does."""
    return str(alarm.get("ComparisonOperator", "")).startswith(comparison) and bool(alarm.get("AlarmActions"))


def _metric_alarms(assembly: Assembly, region: str, metric: str) -> list[tuple[str, Resource]]:
    return [(lid, r) for lid, r in assembly.of_type(region, "AWS::CloudWatch::Alarm")
            if _properties(r).get("MetricName") == metric]


def _failover_record(assembly: Assembly, region: str, role: str) -> Mapping[str, Any]:
    records = [(lid, r) for lid, r in assembly.of_type(region, "AWS::Route53::RecordSet")
               if _properties(r).get("Failover") == role]
    return _properties(_one(records, f"{role} failover record", assembly.env)[1])


def _primary_failover(assembly: Assembly, primary: str) -> tuple[Mapping[str, Any], str, Mapping[str, Any]]:
    """The PRIMARY failover record's properties, its health check's logical id and properties."""
    record = _failover_record(assembly, primary, "PRIMARY")
    check_id = (record.get("HealthCheckId") or {}).get("Ref")
    checks = dict(assembly.of_type(primary, "AWS::Route53::HealthCheck"))
    if check_id not in checks:
        raise MissingInput(f"{assembly.env}: the PRIMARY failover record has no health check in the template")
    return record, str(check_id), _properties(checks[check_id])


def detection_and_traffic(assembly: Assembly, primary: str, secondary: str, estimates: ResilienceEstimates,
                          failover: tuple[Mapping[str, Any], str, Mapping[str, Any]]) -> tuple[Term, ...]:
    """Route 53's health check on the primary failover record (``failover``: from _primary_failover), the DNS
    answer's lifetime, the edge's retries."""
    record_props, _, check = failover
    # Without a SECONDARY answer for the same name, in the other region, there is nowhere to fail over to.
    secondary_record = _failover_record(assembly, primary, "SECONDARY")
    if secondary_record.get("Name") != record_props.get("Name") or f'"{secondary}"' not in json.dumps(
            {k: v for k, v in secondary_record.items() if k in ("AliasTarget", "ResourceRecords")}):
        raise MissingInput(f"{assembly.env}: the SECONDARY failover record does not answer "
                           f"{record_props.get('Name')} with a target in {secondary}")
    config = check.get("HealthCheckConfig") or {}
    interval = float(config.get("RequestInterval", DEFAULT_REQUEST_INTERVAL_S))
    threshold = int(config.get("FailureThreshold", DEFAULT_FAILURE_THRESHOLD))
    spread = estimates.seconds("checker_spread_intervals") * interval
    terms = [Term("detection", interval * threshold + spread,
                  f"health check every {interval:g} s × {threshold} failures + {spread:g} s checker spread")]
    if "AliasTarget" in record_props:
        ttl, basis = estimates.seconds("alias_ttl_seconds"), "alias to the load balancer: Route 53's fixed TTL"
    elif "TTL" in record_props:
        ttl, basis = float(record_props["TTL"]), "the record's TTL"
    else:
        raise MissingInput(f"{assembly.env}: the PRIMARY failover record has neither an alias nor a TTL")
    terms.append(Term("dns", ttl, basis, "traffic"))
    origin_name = str(record_props.get("Name", "")).rstrip(".")
    origins = [origin for _, d in assembly.of_type(primary, "AWS::CloudFront::Distribution")
               for origin in (_properties(d).get("DistributionConfig") or {}).get("Origins", [])
               if origin.get("DomainName") == origin_name]
    if not origins:
        raise MissingInput(f"{assembly.env}: no CloudFront origin is the failover name {origin_name}")
    attempts = max(int(o.get("ConnectionAttempts", estimates.seconds("cloudfront_connection_attempts")))
                   for o in origins)
    timeout = max(float(o.get("ConnectionTimeout", estimates.seconds("cloudfront_connection_timeout_seconds")))
                  for o in origins)
    terms.append(Term("edge", attempts * timeout,
                      f"CloudFront {attempts} connection attempts × {timeout:g} s to the lost origin", "traffic"))
    return tuple(terms)


def _service_counts(assembly: Assembly, region: str) -> tuple[int, int, int, list[Mapping[str, Any]]]:
    """(desired, min, max, scale-out policies) of the region's one ECS service."""
    _, service = _one(list(assembly.of_type(region, "AWS::ECS::Service")), f"ECS service in {region}", assembly.env)
    desired = int(_properties(service).get("DesiredCount", 1))
    targets = list(assembly.of_type(region, "AWS::ApplicationAutoScaling::ScalableTarget"))
    if not targets:
        return desired, desired, desired, []
    target_id, target = _one(targets, f"scalable target in {region}", assembly.env)
    policies = [_properties(p) for _, p in assembly.of_type(region, "AWS::ApplicationAutoScaling::ScalingPolicy")
                if _properties(p).get("ScalingTargetId") == {"Ref": target_id}]
    return desired, int(_properties(target)["MinCapacity"]), int(_properties(target)["MaxCapacity"]), policies


def capacity(assembly: Assembly, primary: str, secondary: str, estimates: ResilienceEstimates) -> Term:
    """Tasks the secondary runs against what the primary carries; short of it, the scale-out steps to get there."""
    # What the primary carries at least (its desired count, never below its floor), against what an idle
    # secondary keeps: its own scale-in brings it down to its floor whatever its desired count says.
    primary_desired, primary_low, _, _ = _service_counts(assembly, primary)
    carried = max(primary_desired, primary_low)
    desired, low, high, policies = _service_counts(assembly, secondary)
    running = low
    if running >= carried:
        return Term("capacity", 0, f"{secondary} runs {running} tasks, {primary} carries {carried}", "traffic")
    if high < carried:
        raise MissingInput(f"{assembly.env}: {secondary} scales to {high} tasks at most, {primary} carries {carried}")
    growth, cooldown = _smallest_step(policies, estimates)
    if growth is None:
        raise MissingInput(f"{assembly.env}: {secondary} runs {running} of the {carried} tasks {primary} carries "
                           "and has no scale-out policy")
    actions, tasks = 0, running
    while tasks < carried:
        tasks = growth(tasks)
        actions += 1
    start = estimates.seconds("fargate_task_start_seconds")
    alarm = estimates.seconds("alarm_evaluation_delay_seconds")
    return Term("capacity", alarm + actions * (cooldown + start),
                f"{secondary} scales {running} → {carried} tasks: {alarm:g} s for the alarm, then {actions} step(s) "
                f"of {cooldown:g} s cooldown + {start:g} s task start", "traffic")


def _growth(kind: str, step: int) -> Callable[[int], int]:
    """Tasks after one scale-out action of ``step`` (a percentage or a count, as the policy says)."""
    if kind == "PercentChangeInCapacity":
        return lambda tasks: max(tasks + 1, math.ceil(tasks * (1 + step / 100)))
    return lambda tasks: tasks + step


def _smallest_step(policies: list[Mapping[str, Any]],
                   estimates: ResilienceEstimates) -> tuple[Callable[[int], int] | None, float]:
    """The scale-out action that adds fewest tasks, with its cooldown (None when no policy scales out): which step
    applies depends on how far the metric breaches, so the budget assumes the smallest."""
    worst, worst_cooldown = None, estimates.seconds("scaling_cooldown_seconds")
    for policy in policies:
        config = policy.get("StepScalingPolicyConfiguration") or {}
        for step in (int(s["ScalingAdjustment"]) for s in config.get("StepAdjustments", [])):
            if step <= 0:
                continue
            grow = _growth(str(config.get("AdjustmentType", "ChangeInCapacity")), step)
            if worst is None or grow(10) < worst(10):
                worst = grow
                worst_cooldown = float(config.get("Cooldown", estimates.seconds("scaling_cooldown_seconds")))
    return worst, worst_cooldown


def writes(assembly: Assembly, primary: str, check_id: str, estimates: ResilienceEstimates,
           root: Path) -> tuple[Term, ...]:
    """Paged by the alarm on the primary's health check ``check_id``, the runbooks' manual steps, then the
    replica's promotion (the replica itself is required by replication_rpo)."""
    # The alarm on the primary's own check, with someone to tell: the other region's alarm says nothing here.
    alarms = [(lid, alarm) for lid, alarm in _metric_alarms(assembly, primary, "HealthCheckStatus")
              if {"Name": "HealthCheckId", "Value": {"Ref": check_id}} in _properties(alarm).get("Dimensions", [])
              and _pages(_properties(alarm), "LessThan")]
    if not alarms:
        raise MissingInput(f"{assembly.env}: no HealthCheckStatus alarm on {primary}'s health check pages anyone "
                           f"when {primary} is lost")
    seconds, basis = min(_alarm_delay(_properties(alarm), estimates) for _, alarm in alarms)
    terms = [Term("alerting", seconds, f"health alarm: {basis}", "writes")]
    terms.extend(runbook_term(root, runbook) for runbook in estimates.region_loss_runbooks)
    terms.append(Term("promotion", estimates.seconds("replica_promotion_seconds"),
                      "RDS read replica promotion (estimate, policies/resilience.yaml)", "writes"))
    return tuple(terms)


def _replica(assembly: Assembly, secondary: str) -> str:
    replicas = [(lid, r) for lid, r in assembly.of_type(secondary, "AWS::RDS::DBInstance")
                if _properties(r).get("SourceDBInstanceIdentifier")]
    _, replica = _one(replicas, f"cross-region read replica in {secondary}", assembly.env)
    return str(_properties(replica).get("DBInstanceIdentifier", ""))


def replication_rpo(assembly: Assembly, secondary: str, estimates: ResilienceEstimates) -> tuple[Term, ...]:
    """What the replica may lag before anyone is told: the lag alarm's threshold, then its time to fire."""
    replica = _replica(assembly, secondary)
    alarms = [(lid, alarm) for lid, alarm in _metric_alarms(assembly, secondary, "ReplicaLag")
              if {"Name": "DBInstanceIdentifier", "Value": replica} in _properties(alarm).get("Dimensions", [])
              and _pages(_properties(alarm), "GreaterThan") and _properties(alarm).get("Statistic") == "Maximum"]
    if not alarms:
        raise MissingInput(f"{assembly.env}: no ReplicaLag alarm (Maximum above a threshold, with an action) on the "
                           f"{secondary} replica {replica}; its lag is unbounded")
    _, alarm = _one(alarms, "ReplicaLag alarm", assembly.env)
    props = _properties(alarm)
    delay, basis = _alarm_delay(props, estimates)
    return (Term("lag tolerated", float(props["Threshold"]), "replica-lag alarm threshold"),
            Term("lag detection", delay, f"replica-lag alarm: {basis}"))


_CRON_HOURS = re.compile(r"^cron\(\S+ (\S+) \S+ \S+ \S+ \S+\)$")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")


def schedule_interval_s(expression: str) -> float:
    """The longest gap between two runs of an AWS Backup schedule. Only the shapes a backup plan uses are read
    (a rate, or a cron running every day at fixed hours); anything else is refused rather than guessed.

    :raise MissingInput: an expression of another shape.
    """
    if match := _RATE.match(expression):
        unit = match.group(2).rstrip("s")
        return int(match.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[unit]
    match = _CRON_HOURS.match(expression)
    fields = expression.removeprefix("cron(").removesuffix(")").split()
    if match and fields[2:5] in (["*", "*", "?"], ["?", "*", "*"]) and fields[5] == "*":
        hours_field = match.group(1)
        if hours_field == "*":
            return 3600
        if re.fullmatch(r"\d+(,\d+)*", hours_field):
            hours = sorted(int(h) for h in hours_field.split(","))
            gaps = [b - a for a, b in zip(hours, hours[1:], strict=False)] + [24 - hours[-1] + hours[0]]
            return max(gaps) * 3600
    raise MissingInput(f"backup schedule {expression!r} is not a daily cron or a rate the budget can read")


def backup_rpo(assembly: Assembly, primary: str, secondary: str, estimates: ResilienceEstimates) -> tuple[Term, ...]:
    """The loss when the replica is unusable as well: time between backups that reach the secondary, plus the copy."""
    intervals = []
    for _, plan in assembly.of_type(primary, "AWS::Backup::BackupPlan"):
        for rule in (_properties(plan).get("BackupPlan") or {}).get("BackupPlanRule", []):
            copies = [c for c in rule.get("CopyActions", [])
                      if f":backup:{secondary}:" in str(c.get("DestinationBackupVaultArn", ""))]
            if copies and rule.get("ScheduleExpression"):
                try:
                    interval = schedule_interval_s(str(rule["ScheduleExpression"]))
                except MissingInput as error:
                    raise MissingInput(f"{assembly.env}: {error}") from None
                intervals.append((interval, rule["ScheduleExpression"]))
    if not intervals:
        raise MissingInput(f"{assembly.env}: no backup rule in {primary} copies to a vault in {secondary}")
    interval, expression = min(intervals)
    copy = estimates.seconds("backup_copy_seconds")
    return (Term("backup interval", interval, f"backup rule {expression} copied to {secondary}"),
            Term("backup copy", copy, "cross-region copy after the job (estimate)"))


def budget(assembly: Assembly, slo: ServiceLevelObjectives, estimates: ResilienceEstimates, *, primary: str,
           secondary: str, root: Path) -> Budget:
    """:raise MissingInput: a template or runbook lacks what a term needs, or holds a value of another shape (a
    token where a number belongs). :raise RunbookError: see runbooks."""
    try:
        return _budget(assembly, slo, estimates, primary=primary, secondary=secondary, root=root)
    except (KeyError, TypeError, AttributeError) as error:
        raise MissingInput(f"{assembly.env}: a template value the budget reads is missing or not a plain value "
                           f"({type(error).__name__}: {error})") from None
    except ValueError as error:
        if isinstance(error, MissingInput | RunbookError):
            raise
        raise MissingInput(f"{assembly.env}: a template value the budget reads is not a number ({error})") from None


def _budget(assembly: Assembly, slo: ServiceLevelObjectives, estimates: ResilienceEstimates, *, primary: str,
            secondary: str, root: Path) -> Budget:
    failover = _primary_failover(assembly, primary)
    rto_terms = (*detection_and_traffic(assembly, primary, secondary, estimates, failover),
                 capacity(assembly, primary, secondary, estimates),
                 *writes(assembly, primary, failover[1], estimates, root))
    return Budget(env=assembly.env, rto_terms=rto_terms,
                  rpo_terms=replication_rpo(assembly, secondary, estimates),
                  rto_objective_s=slo.rto_minutes * 60, rpo_objective_s=slo.rpo_minutes * 60,
                  backup_rpo_terms=backup_rpo(assembly, primary, secondary, estimates),
                  backup_rpo_objective_s=slo.backup_rpo_hours * 3600)
