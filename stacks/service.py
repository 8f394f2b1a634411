"""The regional service: ECS Fargate behind an HTTPS ALB with WAF, rolled out by ECS-native blue/green or canary.

Rollouts shift the production listener rule between two target groups; the deployment alarms (from the SLO
file) stop a bad rollout and roll it back.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct
from typing_extensions import Unpack

from stacks.access_logs import AccessLogBuckets, AccessLogProps
from stacks.config import ServiceConfig
from stacks.deployment_alarms import AlarmThresholds, DeploymentAlarms
from stacks.feature_flags import FlagStore, FlagStoreProps
from stacks.keys import KeyArns, KeyRefs
from stacks.logging import encrypted_log_group
from stacks.naming import SERVICE_CONTAINER, TARGET_GROUPS
from stacks.network import APP_TIER, PUBLIC_TIER
from stacks.origin_verify import OriginVerify
from stacks.roles import ManagedRole
from stacks.stack_args import StackArgs
from stacks.tracing_sidecar import (
    COLLECTOR_MEMORY_MIB,
    TracingProps,
    add_collector,
    service_environment,
    xray_write_statement,
)
from stacks.waf import WafProps, WebAcl

CONTAINER_NAME = SERVICE_CONTAINER
CONTAINER_USER = "10001"
# service/healthcheck.py, in the image (the Dockerfile's HEALTHCHECK runs the same command).
HEALTH_CHECK_COMMAND = ("python", "-m", "service.healthcheck")
HEALTH_PATH = "/ready"  # readiness: a green task that cannot reach its database never takes traffic


@dataclass(frozen=True, kw_only=True)
class CacheEndpoint:
    host: str
    port: int
    auth_secret_name: str
    client_security_group_id: str  # the tasks wear it; the cache admits nothing else


@dataclass(frozen=True, kw_only=True)
class ServiceProps:
    name_prefix: str
    environment: str
    vpc: ec2.IVpc
    keys: KeyArns
    repository_name: str
    image_tag: str
    database_host: str
    database_port: int
    database_name: str
    database_secret_name: str
    certificate: acm.ICertificate
    cache: CacheEndpoint
    settings: ServiceConfig  # the environment's service settings, as configured (a new one is read where it is used)
    origin_verify: OriginVerify
    tracing: TracingProps
    alerts_topic_arn: str
    log_retention_days: int
    thresholds: AlarmThresholds


class ServiceStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, props: ServiceProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        self.props = props
        self.keys = KeyRefs.imported(self, props.keys)
        self.topic = sns.Topic.from_topic_arn(self, "Alerts", props.alerts_topic_arn)
        self.secret = secretsmanager.Secret.from_secret_name_v2(self, "DbSecret", props.database_secret_name)
        self.cache_secret = secretsmanager.Secret.from_secret_name_v2(
            self, "CacheSecret", props.cache.auth_secret_name
        )
        self.repository = ecr.Repository.from_repository_name(self, "Repository", props.repository_name)
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=props.vpc,
            container_insights_v2=ecs.ContainerInsights.ENHANCED,
            enable_fargate_capacity_providers=props.settings.fargate_spot,
        )
        self.task_definition = self._task_definition()
        self.load_balancer, self.https_listener = self._load_balancer()
        self.blue, self.green = (self._target_group(TARGET_GROUPS["blue"]), self._target_group(TARGET_GROUPS["green"]))
        self.production_rule = elbv2.ApplicationListenerRule(
            self,
            "ProductionRule",
            listener=self.https_listener,
            priority=10,
            conditions=[elbv2.ListenerCondition.path_patterns(["/*"])],
            # ECS-native blue/green requires the rule to forward to both groups; ECS moves the weights.
            action=elbv2.ListenerAction.weighted_forward(
                [elbv2.WeightedTargetGroup(target_group=self.blue, weight=100),
                 elbv2.WeightedTargetGroup(target_group=self.green, weight=0)]
            ),
        )
        self.deployment_alarms = DeploymentAlarms(
            self,
            "DeploymentAlarms",
            thresholds=props.thresholds,
            load_balancer=self.load_balancer,
            target_groups=[self.blue, self.green],
            topic=self.topic,
            name_prefix=props.name_prefix,
        )
        self.flags = FlagStore(
            self,
            "FeatureFlags",
            props=FlagStoreProps(
                name=props.name_prefix,
                environment=props.environment,
                error_rate=self.deployment_alarms.error_rate,
                other_rollback_alarms=[self.deployment_alarms.latency, self.deployment_alarms.unhealthy_hosts],
                topic=self.topic,
                descriptions=props.thresholds.descriptions,
                evaluation_periods=props.thresholds.evaluation_periods,
            ),
        )
        self.task_role.policy.add_statements(self.flags.read_statement())
        for name, value in self.flags.settings.items():
            self.container.add_environment(name, value)
        self.service = self._service()
        self._autoscaling()
        self.waf = WebAcl(
            self,
            "Waf",
            props=WafProps(
                name=props.name_prefix,
                rate_limit_per_5_minutes=props.settings.waf_rate_limit_per_5_minutes,
                telemetry_key=self.keys.telemetry,
                log_retention_days=props.log_retention_days,
                origin_verify=props.origin_verify,
            ),
            resource_arn=self.load_balancer.load_balancer_arn,
        )

    def _task_definition(self) -> ecs.FargateTaskDefinition:
        props = self.props
        log_group = encrypted_log_group(
            self, "AppLogs", key=self.keys.telemetry, retention_days=props.log_retention_days
        )
        # Secrets imported by name have partial ARNs; the real ones end in a random six-character suffix.
        secret_arns = [f"{secret.secret_arn}-??????" for secret in (self.secret, self.cache_secret)]
        repository_arn = f"arn:aws:ecr:{self.region}:{self.account}:repository/{props.repository_name}"
        execution = ManagedRole(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="ECS agent: pull the image and write logs",
            statements=[
                # GetAuthorizationToken is account-wide by design; it has no resource to scope to.
                iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                    resources=[repository_arn],
                ),
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
                ),
            ],
        )
        self.task_role = ManagedRole(
            self,
            "TaskRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="The records service: read its secrets (again after rotation) and its feature flags; its "
            "collector writes traces",
            statements=[
                iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=secret_arns),
                xray_write_statement(),
                iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self.keys.data.key_arn]),
            ],
        )
        definition = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=props.settings.cpu,
            memory_limit_mib=props.settings.memory_mib,
            execution_role=execution.immutable,
            task_role=self.task_role.immutable,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            volumes=[ecs.Volume(name="tmp")],
        )
        self.container = container = definition.add_container(
            CONTAINER_NAME,
            image=ecs.ContainerImage.from_ecr_repository(self.repository, props.image_tag),
            user=CONTAINER_USER,
            readonly_root_filesystem=True,
            # The task's memory less the collector's hard limit: neither can starve the other.
            memory_limit_mib=props.settings.memory_mib - COLLECTOR_MEMORY_MIB,
            health_check=ecs.HealthCheck(command=["CMD", *HEALTH_CHECK_COMMAND], interval=Duration.seconds(15),
                                         timeout=Duration.seconds(3), retries=3, start_period=Duration.seconds(20)),
            port_mappings=[ecs.PortMapping(container_port=props.settings.container_port)],
            logging=ecs.LogDrivers.aws_logs(stream_prefix="app", log_group=log_group),
            # Non-secret settings only. The service reads the credentials from Secrets Manager by id at run time
            # (and again after rotation), so no password ever sits in the task's environment.
            environment={
                "APP_ENV": props.environment,
                "APP_REGION": self.region,
                "APP_VERSION": props.image_tag,
                "DB_HOST": props.database_host,
                "DB_PORT": str(props.database_port),
                "DB_NAME": props.database_name,
                "DB_SECRET_ID": props.database_secret_name,
                "DB_SSLMODE": "require",
                "CACHE_HOST": props.cache.host,
                "CACHE_PORT": str(props.cache.port),
                "CACHE_SECRET_ID": props.cache.auth_secret_name,
                "PORT": str(props.settings.container_port),
                **service_environment(props.tracing),
            },
        )
        # The root filesystem is read-only; gunicorn and Python still need a scratch directory.
        container.add_mount_points(ecs.MountPoint(container_path="/tmp", source_volume="tmp", read_only=False))
        add_collector(definition, props.tracing, log_group)
        return definition

    def _load_balancer(self) -> tuple[elbv2.ApplicationLoadBalancer, elbv2.ApplicationListener]:
        props = self.props
        logs = AccessLogBuckets(
            self, "AccessLogs", props=AccessLogProps(retention_days=props.log_retention_days, source="LoadBalancer")
        )
        load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=props.vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_group_name=PUBLIC_TIER),
            deletion_protection=True,
            drop_invalid_header_fields=True,
        )
        load_balancer.log_access_logs(logs.delivery, prefix="alb")
        https = load_balancer.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[props.certificate],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            default_action=elbv2.ListenerAction.fixed_response(404, content_type="application/json",
                                                               message_body='{"error": "not found"}'),
        )
        # No port-80 listener: viewers reach CloudFront (which redirects to HTTPS at the edge), and the only other
        # clients, CloudFront's HTTPS-only origin and Route 53's HTTPS health checks, never speak plain HTTP.
        return load_balancer, https

    def _target_group(self, colour: str) -> elbv2.ApplicationTargetGroup:
        return elbv2.ApplicationTargetGroup(
            self,
            colour,
            vpc=self.props.vpc,
            port=self.props.settings.container_port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            deregistration_delay=Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                path=HEALTH_PATH, healthy_threshold_count=2, unhealthy_threshold_count=3,
                interval=Duration.seconds(10), timeout=Duration.seconds(5),
            ),
        )

    def _service(self) -> ecs.FargateService:
        props = self.props
        strategy = ecs.DeploymentStrategy[props.settings.deployment_strategy]
        shift = ecs.TrafficShiftConfig(
            step_percent=props.settings.canary_percent,
            step_bake_time=Duration.minutes(props.settings.bake_time_minutes),
        )
        spot = (
            [
                ecs.CapacityProviderStrategy(capacity_provider="FARGATE", base=props.settings.min_count, weight=1),
                ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=3),
            ]
            if props.settings.fargate_spot
            else None
        )
        service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task_definition,
            desired_count=props.settings.desired_count,
            vpc_subnets=ec2.SubnetSelection(subnet_group_name=APP_TIER),
            security_groups=[
                ec2.SecurityGroup(self, "TaskSg", vpc=props.vpc, description="Service tasks: from the load balancer"),
                # Imported immutable: the cache stack owns this group and its rules; the tasks only wear it, and
                # the load balancer's rules land on the group above.
                ec2.SecurityGroup.from_security_group_id(
                    self, "CacheClientSg", props.cache.client_security_group_id, mutable=False
                ),
            ],
            min_healthy_percent=100,
            max_healthy_percent=200,
            health_check_grace_period=Duration.seconds(60),
            capacity_provider_strategies=spot,
            deployment_strategy=strategy,
            bake_time=Duration.minutes(props.settings.bake_time_minutes),
            canary_configuration=shift if strategy == ecs.DeploymentStrategy.CANARY else None,
            linear_configuration=shift if strategy == ecs.DeploymentStrategy.LINEAR else None,
            # No circuit breaker: it applies to rolling deployments only (CloudFormation DeploymentCircuitBreaker);
            # these alarms with the bake time stop and roll back a blue/green or canary rollout. CDK's
            # "shouldUseCircuitBreaker" warning is therefore expected and reported as non-blocking.
            deployment_alarms=ecs.DeploymentAlarmConfig(
                alarm_names=[alarm.alarm_name for alarm in self.deployment_alarms.alarms],
                behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM,
            ),
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
        )
        target = service.load_balancer_target(
            container_name=CONTAINER_NAME,
            container_port=props.settings.container_port,
            alternate_target=ecs.AlternateTarget(
                "Green",
                alternate_target_group=self.green,
                production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(self.production_rule),
            ),
        )
        target.attach_to_application_target_group(self.blue)
        return service

    def _autoscaling(self) -> None:
        props = self.props
        scaling = self.service.auto_scale_task_count(
            min_capacity=props.settings.min_count, max_capacity=props.settings.max_count
        )
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=60)
        # Requests per running task, from the load balancer rather than a target group: blue and green trade
        # places on every rollout, so a per-target-group metric would watch the idle colour half the time.
        per_task = cloudwatch.MathExpression(
            expression="FILL(requests, 0) / MAX([FILL(tasks, 1), 1])",
            using_metrics={
                "requests": self.load_balancer.metrics.request_count(period=Duration.minutes(1)),
                "tasks": cloudwatch.Metric(
                    namespace="ECS/ContainerInsights",
                    metric_name="RunningTaskCount",
                    dimensions_map={
                        "ClusterName": self.cluster.cluster_name,
                        "ServiceName": self.service.service_name,
                    },
                    statistic="Average",
                    period=Duration.minutes(1),
                ),
            },
            label="requests per task per minute",
            period=Duration.minutes(1),
        )
        target = props.settings.requests_per_task_per_minute
        scaling.scale_on_metric(
            "RequestsPerTask",
            metric=per_task,
            adjustment_type=appscaling.AdjustmentType.PERCENT_CHANGE_IN_CAPACITY,
            scaling_steps=[
                appscaling.ScalingInterval(upper=target // 2, change=-10),
                appscaling.ScalingInterval(lower=target, change=+25),
                appscaling.ScalingInterval(lower=target * 2, change=+100),
            ],
        )
