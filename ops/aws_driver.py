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
- ``set_read_only``: in each region, a new version of the AppConfig flag profile with ``read_only`` changed and
  the other flags as last deployed, deployed with the all-at-once strategy; waits until the deployment completes.
- ``restore_database``: ``rds.restore_db_instance_to_point_in_time`` into a new, private instance beside the
  source (its subnet group, security groups, class, parameter group and tags), after checking the time is within
  the automated backups' restore window; waits until it is available. The source is not touched
  (docs/runbooks/restore.md).

Resources are found through the stacks' CloudFormation physical ids (``AwsTarget.resolve``); names follow
``stacks/stage.py``'s conventions.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from ops import http_api
from ops.driver import DriverError, RegionStatus, RestoredDatabase, Status
from service.flags import Flags
from stacks.naming import SERVICE_CONTAINER, TARGET_GROUPS, Naming, health_check_id, logical_id_hint

COLOURS = tuple(TARGET_GROUPS)
# Service deployment states, as ListServiceDeployments filters them.
RUNNING = ("PENDING", "IN_PROGRESS")
COMPLETED = ("SUCCESSFUL",)
ROLLED_BACK = ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL")
ENDED_OTHERWISE = ("STOP_REQUESTED", "STOPPED", "ROLLBACK_FAILED")


@dataclass(frozen=True, kw_only=True)
class FlagTarget:
    """The region's AppConfig flag store (stacks/feature_flags.py), by id."""

    application: str
    environment: str
    profile: str
    immediate_strategy: str  # all at once, no bake: the only strategy read_only is deployed with


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
    flags: FlagTarget


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
        naming = Naming(project=project, env=env)
        edge = _physical_ids(session, config.project.primary_region, naming.stack_name("Edge", None))
        regions = {}
        for name in (config.project.primary_region, config.project.secondary_region):
            short = config.region(environment, "primary" if name == config.project.primary_region else "secondary")
            stack = _physical_ids(session, name, naming.stack_name("Service", short.short_name))
            regions[name] = RegionTarget(
                region=name, cluster=_one(stack, "AWS::ECS::Cluster"), service=_one(stack, "AWS::ECS::Service"),
                container=SERVICE_CONTAINER,
                listener_rule_arn=_one(stack, "AWS::ElasticLoadBalancingV2::ListenerRule"),
                target_groups={colour: _one(stack, "AWS::ElasticLoadBalancingV2::TargetGroup", logical_id_hint(id_))
                               for colour, id_ in TARGET_GROUPS.items()},
                db_instance=naming.db_instance_id(short.short_name),
                health_check_id=_one(edge, "AWS::Route53::HealthCheck", logical_id_hint(health_check_id(name))),
                url=f"https://{name}.{domain}",
                flags=FlagTarget(
                    application=_one(stack, "AWS::AppConfig::Application"),
                    environment=_one(stack, "AWS::AppConfig::Environment"),
                    profile=_one(stack, "AWS::AppConfig::ConfigurationProfile"),
                    immediate_strategy=_one(stack, "AWS::AppConfig::DeploymentStrategy", "Immediate"),
                ),
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


def _image_tag(image: str) -> str:
    """``repo:tag`` or ``repo:tag@sha256:...`` -> tag; an image named by digest only has none."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[1] if ":" in name else ""


class AwsDriver:
    # Route 53: 3 failed checks 30 s apart, then DNS TTLs and CloudFront's origin resolution.
    failover_timeout_s = 600.0
    # The service's flag cache (service/settings.py flags_ttl_s; the task sets no FLAGS_TTL_S).
    flag_ttl_s = 30.0

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

    def _task_definition(self, region: str) -> dict[str, Any]:
        """The task definition the service names: the revision the region runs (or is moving to)."""
        found = self.target.regions[region]
        ecs = self._client("ecs", region)
        service = self._call("describe_services", ecs.describe_services, cluster=found.cluster,
                             services=[found.service])["services"][0]
        definition: dict[str, Any] = self._call("describe_task_definition", ecs.describe_task_definition,
                                                taskDefinition=service["taskDefinition"])["taskDefinition"]
        return definition

    def running_image_tag(self, region: str) -> str:
        """The image tag of the service's container: the release the region runs (or is moving to)."""
        container = self.target.regions[region].container
        image = next(c["image"] for c in self._task_definition(region)["containerDefinitions"]
                     if c["name"] == container)
        return _image_tag(image)

    def deploy(self, region: str, version: str, *, healthy: bool = True) -> str:
        if not healthy:
            raise DriverError("a deliberately failing build is a lab fault; on AWS inject faults with FIS")
        found = self.target.regions[region]
        ecs = self._client("ecs", region)
        current = self._task_definition(region)
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

    def rollback(self, region: str) -> str:
        """Return the region to the revision before the newest release, once; say what was done.

        A pending or running deployment is stopped with rollback (ECS returns traffic to the live revision). With
        none running, the newest completed deployment is answered by a deployment back to the revision it
        replaced, which ECS runs with the service's strategy, bake time and alarms. Nothing is done when the
        newest deployment already is such a return (a rollback that ran, or is running: a re-run must never
        restore the bad release) or when ECS rolled it back by itself.

        :raise DriverError: no deployment at all, or only the service's first one.
        """
        found = self.target.regions[region]
        ecs = self._client("ecs", region)
        history = sorted(self._deployments(ecs, found, [*RUNNING, *COMPLETED, *ROLLED_BACK]),
                         key=lambda d: d["createdAt"])
        if not history:
            raise DriverError(f"{region}: the service has no deployment; nothing to roll back")
        newest = history[-1]
        if newest["status"] in ROLLED_BACK:
            return f"{region}: ECS already rolled the newest deployment back ({newest['status']}); nothing to do"
        before = next((d for d in reversed(history[:-1]) if d["status"] in COMPLETED), None)
        arns = [d["serviceDeploymentArn"] for d in (before, newest) if d is not None]
        described = {d["serviceDeploymentArn"]: d for d in self._call(
            "describe_service_deployments", ecs.describe_service_deployments, serviceDeploymentArns=arns,
        )["serviceDeployments"]}
        latest = described[newest["serviceDeploymentArn"]]
        sources = latest.get("sourceServiceRevisions") or []
        if not sources:
            raise DriverError(f"{region}: the newest deployment was the service's first; nothing to roll back to")
        earlier = (described[before["serviceDeploymentArn"]].get("sourceServiceRevisions") or []) if before else []
        revisions = {sources[0]["arn"], latest["targetServiceRevision"]["arn"], *(r["arn"] for r in earlier[:1])}
        task_definition = {r["serviceRevisionArn"]: r["taskDefinition"] for r in self._call(
            "describe_service_revisions", ecs.describe_service_revisions, serviceRevisionArns=sorted(revisions),
        )["serviceRevisions"]}
        target = task_definition[latest["targetServiceRevision"]["arn"]]
        if earlier and target == task_definition[earlier[0]["arn"]]:
            return f"{region}: the newest deployment already returns to {target} ({newest['status']}); nothing to do"
        if newest["status"] in RUNNING:
            self._call("stop_service_deployment", ecs.stop_service_deployment,
                       serviceDeploymentArn=newest["serviceDeploymentArn"], stopType="ROLLBACK")
            return f"{region}: stopped the running deployment with rollback"
        previous = task_definition[sources[0]["arn"]]
        self._call("update_service", ecs.update_service, cluster=found.cluster, service=found.service,
                   taskDefinition=previous)
        return f"{region}: started a deployment back to {previous}"

    settle_poll_s = 15.0

    def wait_settled(self, region: str, timeout_s: float) -> bool:
        """True once no deployment of the region's service is pending, running or rolling back (a rollback has
        finished); False when one still is after ``timeout_s``."""
        found = self.target.regions[region]
        ecs = self._client("ecs", region)
        deadline = time.monotonic() + timeout_s
        while self._deployments(ecs, found, [*RUNNING, "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "STOP_REQUESTED"]):
            if time.monotonic() > deadline:
                return False
            time.sleep(self.settle_poll_s)
        return True

    def release_deployment(self, region: str, image_tag: str) -> tuple[str, str] | None:
        """(ARN, status) of the region's newest service deployment when it rolls out ``image_tag``; None when there
        is none yet or the newest one rolls out something else (the release's has not started)."""
        found = self.target.regions[region]
        ecs = self._client("ecs", region)
        listed = self._deployments(ecs, found, [*RUNNING, *COMPLETED, *ROLLED_BACK, *ENDED_OTHERWISE])
        if not listed:
            return None
        newest = max(listed, key=lambda d: d["createdAt"])
        described = self._call("describe_service_deployments", ecs.describe_service_deployments,
                               serviceDeploymentArns=[newest["serviceDeploymentArn"]])["serviceDeployments"]
        target = (described[0].get("targetServiceRevision") or {}).get("arn") if described else None
        if not target:
            raise DriverError(f"{region}: deployment {newest['serviceDeploymentArn']} names no target revision")
        revisions = self._call("describe_service_revisions", ecs.describe_service_revisions,
                               serviceRevisionArns=[target])["serviceRevisions"]
        if not revisions:
            raise DriverError(f"{region}: revision {target} not found")
        definition = self._call("describe_task_definition", ecs.describe_task_definition,
                                taskDefinition=revisions[0]["taskDefinition"])["taskDefinition"]
        image = next((c["image"] for c in definition["containerDefinitions"] if c["name"] == found.container), "")
        if not image:
            raise DriverError(f"{region}: {revisions[0]['taskDefinition']} has no container {found.container}")
        if _image_tag(image) != image_tag:
            return None
        return newest["serviceDeploymentArn"], newest["status"]

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

    # How long set_read_only waits for a flag deployment: all at once with no bake completes in seconds.
    flag_poll_s, flag_timeout_s = 2.0, 120.0

    def set_read_only(self, enabled: bool) -> None:
        done: list[str] = []
        for region, found in self.target.regions.items():
            try:
                self._deploy_flags(region, found.flags, enabled)
            except DriverError as error:
                # Half-way is the worst state to leave unsaid: the operator must know which regions changed.
                changed = f"; read_only is already {'on' if enabled else 'off'} in {', '.join(done)}" if done else ""
                raise DriverError(f"{error}; whether it changed in {region} is unknown{changed}") from None
            done.append(region)

    def _deploy_flags(self, region: str, store: FlagTarget, read_only: bool) -> None:
        appconfig = self._client("appconfig", region)
        ids = {"ApplicationId": store.application, "ConfigurationProfileId": store.profile}
        current = self._deployed_flags(appconfig, store)
        version = self._call(
            "create_hosted_configuration_version", appconfig.create_hosted_configuration_version, **ids,
            Content=json.dumps(replace(current, read_only=read_only).document()).encode(),
            ContentType="application/json", Description=f"read_only {'on' if read_only else 'off'} (python -m ops)",
        )["VersionNumber"]
        number = self._call(
            "start_deployment", appconfig.start_deployment, **ids, EnvironmentId=store.environment,
            DeploymentStrategyId=store.immediate_strategy, ConfigurationVersion=str(version),
            Description=f"read_only {'on' if read_only else 'off'}",
        )["DeploymentNumber"]
        deadline = time.monotonic() + self.flag_timeout_s
        while True:
            state = self._call("get_deployment", appconfig.get_deployment, ApplicationId=store.application,
                               EnvironmentId=store.environment, DeploymentNumber=number)["State"]
            if state == "COMPLETE":
                return
            if state in ("ROLLING_BACK", "ROLLED_BACK", "REVERTED"):
                raise DriverError(f"{region}: AppConfig deployment {number} of read_only={read_only} was {state}")
            if time.monotonic() > deadline:
                raise DriverError(f"{region}: AppConfig deployment {number} still {state} after "
                                  f"{self.flag_timeout_s:g} s")
            time.sleep(self.flag_poll_s)

    def _deployed_flags(self, appconfig: Any, store: FlagTarget) -> Flags:
        """The flags of the environment's last completed deployment (the defaults if none completed), so changing
        read_only never resets another flag."""
        # Newest first (descending deployment number), so the first completed one of the profile is the latest.
        pages: dict[str, Any] = {}
        while True:
            page = self._call("list_deployments", appconfig.list_deployments, ApplicationId=store.application,
                              EnvironmentId=store.environment, **pages)
            latest = next((d for d in page["Items"]
                           if d["State"] == "COMPLETE" and d.get("ConfigurationProfileId") == store.profile), None)
            if latest is not None:
                break
            if not page.get("NextToken"):
                return Flags()
            pages = {"NextToken": page["NextToken"]}
        content = self._call("get_hosted_configuration_version", appconfig.get_hosted_configuration_version,
                             ApplicationId=store.application, ConfigurationProfileId=store.profile,
                             VersionNumber=int(latest["ConfigurationVersion"]))["Content"].read()
        try:
            return Flags.parse(json.loads(content))
        except (ValueError, AttributeError) as error:
            raise DriverError(f"deployed flags version {latest['ConfigurationVersion']} is unreadable: {error}") \
                from None

    # How long restore_database waits for the new instance (a point-in-time restore takes tens of minutes).
    restore_poll_s, restore_max_attempts = 30, 120

    def restore_database(self, region: str, to_time: dt.datetime, name: str) -> RestoredDatabase:
        if to_time.tzinfo is None:
            raise DriverError(f"{region}: restore time {to_time.isoformat()} has no time zone; give it in UTC")
        rds = self._client("rds", region)
        source_id = self.target.regions[region].db_instance
        (source,) = self._call("describe_db_instances", rds.describe_db_instances,
                               DBInstanceIdentifier=source_id)["DBInstances"]
        latest = source.get("LatestRestorableTime")
        if not source.get("BackupRetentionPeriod") or latest is None:
            raise DriverError(f"{region}: {source_id} keeps no automated backups; no point in time to restore")
        if to_time > latest:
            raise DriverError(f"{region}: {source_id} can be restored up to {latest.isoformat()}, not "
                              f"{to_time.isoformat()} (transaction logs reach S3 every five minutes)")
        backups = self._call("describe_db_instance_automated_backups", rds.describe_db_instance_automated_backups,
                             DbiResourceId=source["DbiResourceId"])["DBInstanceAutomatedBackups"]
        earliest = min((b["RestoreWindow"]["EarliestTime"] for b in backups
                        if (b.get("RestoreWindow") or {}).get("EarliestTime")), default=None)
        if earliest is None or to_time < earliest:
            kept = f"from {earliest.isoformat()}" if earliest else "no restore window"
            raise DriverError(f"{region}: {source_id}'s automated backups cover {kept}, not {to_time.isoformat()}: "
                              "restore from an AWS Backup recovery point instead (docs/runbooks/restore.md)")
        started = time.monotonic()
        self._call(
            "restore_db_instance_to_point_in_time", rds.restore_db_instance_to_point_in_time,
            SourceDBInstanceIdentifier=source_id, TargetDBInstanceIdentifier=name, RestoreTime=to_time,
            DBInstanceClass=source["DBInstanceClass"], DBSubnetGroupName=source["DBSubnetGroup"]["DBSubnetGroupName"],
            VpcSecurityGroupIds=[group["VpcSecurityGroupId"] for group in source["VpcSecurityGroups"]],
            DBParameterGroupName=source["DBParameterGroups"][0]["DBParameterGroupName"],
            EnableIAMDatabaseAuthentication=bool(source.get("IAMDatabaseAuthenticationEnabled")),
            # A restore beside production for a check or a repair: private, single-AZ, deletable afterwards.
            PubliclyAccessible=False, MultiAZ=False, DeletionProtection=False, CopyTagsToSnapshot=True,
            # A copy of PHI keeps its source's tags (DataClassification among them), and says what it is.
            Tags=[*(tag for tag in source.get("TagList", []) if not tag["Key"].startswith("aws:")),
                  {"Key": "Purpose", "Value": f"point-in-time restore of {source_id}"},
                  {"Key": "RestoredTo", "Value": to_time.isoformat()}],
        )
        try:
            rds.get_waiter("db_instance_available").wait(
                DBInstanceIdentifier=name,
                WaiterConfig={"Delay": self.restore_poll_s, "MaxAttempts": self.restore_max_attempts})
        except (WaiterError, ClientError, BotoCoreError) as error:
            raise DriverError(f"{region}: {name} did not become available: {error}") from None
        (restored,) = self._call("describe_db_instances", rds.describe_db_instances,
                                 DBInstanceIdentifier=name)["DBInstances"]
        endpoint = restored["Endpoint"]
        return RestoredDatabase(name, f"{endpoint['Address']}:{endpoint['Port']}", to_time,
                                round(time.monotonic() - started, 1))

    def active_region(self) -> str | None:
        """The region that answers the global URL (CloudFront, then Route 53's failover record): what users get,
        DNS caching included, the way the lab's front proxy reports it. Route 53's own view of the health checks
        changes the moment a check is inverted, long before traffic follows."""
        return http_api.region_serving(self.target.url)

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
