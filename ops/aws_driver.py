"""The Driver protocol on a deployed environment, with boto3. What each drill operation changes there:

- ``fail_region``/``restore_region``: invert / restore the region's Route 53 health check, so DNS fails over
  exactly as it would for a real outage, without touching the region (abort: ``restore_region``).
- ``deploy``: a new task definition revision with the image tag, then ``update_service`` (ECS-native
  blue/green or canary takes it from there, with its bake time and alarm rollback).
- ``shift_traffic``/``promote``: refused. ECS-native deployments own the production listener rule's weights;
  editing them beside ECS would fight it. The rollback and blue/green drills are lab-only (``@lab``).
- ``rollback``: ``stop_service_deployment(stopType=ROLLBACK)`` on every pending or running deployment.
- ``promote_replica``: ``rds.promote_read_replica`` (irreversible: the replica stops following the primary).
- ``replica_caught_up``: CloudWatch ``ReplicaLag`` of the replica is 0 in its latest datapoint.

Resources are found through the stacks' CloudFormation physical ids (``AwsTarget.resolve``); names follow
``stacks/stage.py``'s conventions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ops import http_api
from ops.driver import DriverError, RegionStatus, Status

COLOURS = ("blue", "green")


@dataclass(frozen=True, kw_only=True)
class RegionTarget:
    region: str
    cluster: str
    service: str
    container: str
    listener_rule_arn: str
    target_groups: Mapping[str, str]  # colour -> target group ARN
    db_instance: str
    health_check_id: str
    url: str  # https://<region>.<domain>


@dataclass(frozen=True, kw_only=True)
class AwsTarget:
    env: str
    url: str  # the global entry point, https://<domain>
    primary: str
    regions: Mapping[str, RegionTarget]

    @classmethod
    def resolve(cls, env: str, session: boto3.Session | None = None) -> AwsTarget:
        """From cdk.json and the deployed stacks' resources. :raise DriverError: a stack or resource is missing."""
        from stacks.config import CDK_JSON, load_config

        config = load_config(CDK_JSON)
        environment = config.environments[env]
        session = session or boto3.Session()
        project, domain = config.project.name, environment.domain_name
        edge = _physical_ids(session, config.project.primary_region, f"{project}-{env}-edge-global")
        regions = {}
        for name in (config.project.primary_region, config.project.secondary_region):
            short = config.region(environment, "primary" if name == config.project.primary_region else "secondary")
            stack = _physical_ids(session, name, f"{project}-{env}-service-{short.short_name}")
            regions[name] = RegionTarget(
                region=name, cluster=_one(stack, "AWS::ECS::Cluster"), service=_one(stack, "AWS::ECS::Service"),
                container="web", listener_rule_arn=_one(stack, "AWS::ElasticLoadBalancingV2::ListenerRule"),
                target_groups={c: _one(stack, "AWS::ElasticLoadBalancingV2::TargetGroup", c.capitalize())
                               for c in COLOURS},
                db_instance=f"{project}-{env}-{short.short_name}",
                health_check_id=_one(edge, "AWS::Route53::HealthCheck", name.replace("-", "")),
                url=f"https://{name}.{domain}",
            )
        return cls(env=env, url=f"https://{domain}", primary=config.project.primary_region, regions=regions)


def _physical_ids(session: boto3.Session, region: str, stack: str) -> list[tuple[str, str, str]]:
    """(type, logical id, physical id) of every resource in ``stack``."""
    try:
        resources = session.client("cloudformation", region_name=region).describe_stack_resources(StackName=stack)
    except (ClientError, BotoCoreError) as error:
        raise DriverError(f"stack {stack} in {region}: {error}") from None
    return [(r["ResourceType"], r["LogicalResourceId"], r["PhysicalResourceId"]) for r in resources["StackResources"]]


def _one(resources: list[tuple[str, str, str]], kind: str, hint: str = "") -> str:
    found = [physical for t, logical, physical in resources if t == kind and hint in logical]
    if len(found) != 1:
        raise DriverError(f"expected one {kind}{' named ' + hint + '*' if hint else ''}, found {len(found)}")
    return found[0]


class AwsDriver:
    # Route 53: 3 failed checks 30 s apart, then DNS TTLs and CloudFront's origin resolution.
    failover_timeout_s = 600.0

    def __init__(self, target: AwsTarget, session: boto3.Session | None = None) -> None:
        self.target = target
        self.session = session or boto3.Session()

    @classmethod
    def for_environment(cls, env: str) -> AwsDriver:
        return cls(AwsTarget.resolve(env))

    def _client(self, service: str, region: str) -> Any:
        return self.session.client(service, region_name=region)

    def _call(self, what: str, call: Any, **kwargs: Any) -> Any:
        try:
            return call(**kwargs)
        except (ClientError, BotoCoreError) as error:
            raise DriverError(f"{what}: {error}") from None

    def _weights(self, region: str) -> dict[str, int]:
        found = self.target.regions[region]
        elbv2 = self._client("elbv2", region)
        rule = self._call("describe_rules", elbv2.describe_rules, RuleArns=[found.listener_rule_arn])["Rules"][0]
        forward = next(a for a in rule["Actions"] if a["Type"] == "forward")["ForwardConfig"]["TargetGroups"]
        by_arn = {g["TargetGroupArn"]: int(g.get("Weight", 0)) for g in forward}
        return {colour: by_arn.get(arn, 0) for colour, arn in found.target_groups.items()}

    def _live(self, region: str) -> str:
        """The colour of the target group the ECS service calls production (never guessed from weights)."""
        found = self.target.regions[region]
        ecs = self._client("ecs", region)
        service = self._call("describe_services", ecs.describe_services, cluster=found.cluster,
                             services=[found.service])["services"][0]
        production = service["loadBalancers"][0]["targetGroupArn"]
        return next((c for c, arn in found.target_groups.items() if arn == production), COLOURS[0])

    def status(self) -> Status:
        regions = {}
        for name, found in self.target.regions.items():
            live = self._live(name)
            health = self._call("describe_target_health", self._client("elbv2", name).describe_target_health,
                                TargetGroupArn=found.target_groups[live])["TargetHealthDescriptions"]
            healthy = any(t["TargetHealth"]["State"] == "healthy" for t in health)
            regions[name] = RegionStatus(name, healthy, live, self._weights(name), {})
        return Status(active_region=self.active_region(), regions=regions)

    def deploy(self, region: str, version: str, *, healthy: bool = True) -> str:
        if not healthy:
            raise DriverError("a deliberately failing build is a lab fault; on AWS inject faults with FIS")
        found = self.target.regions[region]
        ecs = self._client("ecs", region)
        service = self._call("describe_services", ecs.describe_services, cluster=found.cluster,
                             services=[found.service])["services"][0]
        current = self._call("describe_task_definition", ecs.describe_task_definition,
                             taskDefinition=service["taskDefinition"])["taskDefinition"]
        containers = []
        for container in current["containerDefinitions"]:
            if container["name"] == found.container:
                repository = container["image"].split("@", 1)[0]  # pinned by digest or tag: keep the repository
                if ":" in repository.rsplit("/", 1)[-1]:
                    repository = repository.rsplit(":", 1)[0]
                container = {**container, "image": f"{repository}:{version}"}
            containers.append(container)
        keep = ("family", "taskRoleArn", "executionRoleArn", "networkMode", "volumes", "placementConstraints",
                "requiresCompatibilities", "cpu", "memory", "runtimePlatform", "ephemeralStorage", "pidMode",
                "ipcMode", "proxyConfiguration", "enableFaultInjection")
        revision = self._call("register_task_definition", ecs.register_task_definition,
                              containerDefinitions=containers, **{k: current[k] for k in keep if k in current})
        self._call("update_service", ecs.update_service, cluster=found.cluster, service=found.service,
                   taskDefinition=revision["taskDefinition"]["taskDefinitionArn"])
        return COLOURS[1] if self._live(region) == COLOURS[0] else COLOURS[0]

    def shift_traffic(self, region: str, percent: int) -> None:
        raise DriverError(f"{region}: ECS-native deployments shift traffic on AWS; deploy and let ECS bake")

    def promote(self, region: str) -> None:
        raise DriverError(f"{region}: ECS-native deployments promote on AWS once the bake passes")

    def rollback(self, region: str) -> None:
        """Stop a pending or running deployment with rollback (ECS returns traffic to the live revision). With
        none running, the newest deployment completed, so start one back to the revision it replaced: ECS runs
        it with the service's own strategy, bake time and alarms.

        :raise DriverError: nothing runs and no completed deployment names an earlier revision.
        """
        found = self.target.regions[region]
        ecs = self._client("ecs", region)
        running = self._deployments(ecs, found, ["PENDING", "IN_PROGRESS"])
        for deployment in running:
            self._call("stop_service_deployment", ecs.stop_service_deployment,
                       serviceDeploymentArn=deployment["serviceDeploymentArn"], stopType="ROLLBACK")
        if running:
            return
        completed = sorted(self._deployments(ecs, found, ["SUCCESSFUL"]), key=lambda d: d["createdAt"])
        if not completed:
            raise DriverError(f"{region}: no ECS deployment is running or has completed; nothing to roll back")
        arns = [d["serviceDeploymentArn"] for d in completed[-2:]]
        described = {d["serviceDeploymentArn"]: d for d in self._call(
            "describe_service_deployments", ecs.describe_service_deployments, serviceDeploymentArns=arns,
        )["serviceDeployments"]}
        newest, before = described[arns[-1]], described[arns[0]] if len(arns) == 2 else None
        sources = newest.get("sourceServiceRevisions") or []
        if not sources:
            raise DriverError(f"{region}: the newest deployment was the service's first; nothing to roll back to")
        earlier = (before or {}).get("sourceServiceRevisions") or []
        revisions = {sources[0]["arn"], newest["targetServiceRevision"]["arn"], *(r["arn"] for r in earlier[:1])}
        task_definition = {r["serviceRevisionArn"]: r["taskDefinition"] for r in self._call(
            "describe_service_revisions", ecs.describe_service_revisions, serviceRevisionArns=sorted(revisions),
        )["serviceRevisions"]}
        if earlier and task_definition[newest["targetServiceRevision"]["arn"]] == task_definition[earlier[0]["arn"]]:
            # The newest deployment already returned to what the one before it replaced (a rollback that ran, or
            # a re-run of the job that ran it): going "back" again would restore the bad release.
            return
        self._call("update_service", ecs.update_service, cluster=found.cluster, service=found.service,
                   taskDefinition=task_definition[sources[0]["arn"]])

    def _deployments(self, ecs: Any, found: RegionTarget, status: list[str]) -> list[dict[str, Any]]:
        listed, token = [], None
        while True:
            page = self._call("list_service_deployments", ecs.list_service_deployments, cluster=found.cluster,
                              service=found.service, status=status, **({"nextToken": token} if token else {}))
            listed += page["serviceDeployments"]
            token = page.get("nextToken")
            if not token:
                return listed

    def _invert(self, region: str, inverted: bool) -> None:
        route53 = self._client("route53", self.target.primary)
        self._call("update_health_check", route53.update_health_check,
                   HealthCheckId=self.target.regions[region].health_check_id, Inverted=inverted)

    def fail_region(self, region: str) -> None:
        self._invert(region, True)

    def restore_region(self, region: str) -> None:
        self._invert(region, False)

    def promote_replica(self, region: str) -> None:
        self._call("promote_read_replica", self._client("rds", region).promote_read_replica,
                   DBInstanceIdentifier=self.target.regions[region].db_instance)

    def replica_caught_up(self, region: str) -> bool:
        now = dt.datetime.now(dt.UTC)
        points = self._call(
            "get_metric_statistics", self._client("cloudwatch", region).get_metric_statistics,
            Namespace="AWS/RDS", MetricName="ReplicaLag", Statistics=["Maximum"], Period=60,
            Dimensions=[{"Name": "DBInstanceIdentifier", "Value": self.target.regions[region].db_instance}],
            StartTime=now - dt.timedelta(minutes=5), EndTime=now,
        )["Datapoints"]
        if not points:
            return False  # no datapoint is no evidence of a replayed replica
        return float(max(points, key=lambda p: p["Timestamp"])["Maximum"]) == 0.0

    def _region_healthy(self, region: str) -> bool:
        """Route 53's view: the checkers' verdict, turned around when the health check is inverted."""
        route53 = self._client("route53", self.target.primary)
        check_id = self.target.regions[region].health_check_id
        observations = self._call("get_health_check_status", route53.get_health_check_status,
                                  HealthCheckId=check_id)["HealthCheckObservations"]
        passing = sum(1 for o in observations if o["StatusReport"]["Status"].startswith("Success"))
        inverted = self._call("get_health_check", route53.get_health_check,
                              HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"].get("Inverted", False)
        # Route 53 counts an endpoint healthy when more than 18 % of its checkers see it healthy.
        return (passing > 0.18 * len(observations)) != bool(inverted)

    def active_region(self) -> str | None:
        if self._region_healthy(self.target.primary):
            return self.target.primary
        return next((r for r in self.target.regions if r != self.target.primary and self._region_healthy(r)), None)

    def write(self, record: Mapping[str, Any]) -> int:
        return http_api.write(self.target.url, record)

    def read(self, record_id: int, *, region: str | None = None) -> Mapping[str, Any] | None:
        """Through the global URL: a region's own URL is behind a WAF that refuses requests without the origin
        header. :raise DriverError: ``region`` is not the one the global URL serves."""
        if region is not None and region != self.active_region():
            raise DriverError(f"{region} is not serving the global URL; only the active region can be read")
        return http_api.read(self.target.url, record_id)

    def region_url(self, region: str) -> str:
        return self.target.regions[region].url

    def cli_target(self) -> list[str]:
        return ["--target", "aws", "--env", self.target.env]

    def refresh(self) -> None:
        """Nothing cached: every call reads AWS."""
