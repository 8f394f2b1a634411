"""One Stage per environment: the regional stacks of both regions, the peering between them, and the global
zone and edge stacks (in the primary region, us-east-1).

Cross-region links that can be named (replica source, secret replica key, backup copy vault) are derived from
configuration and names; the explicit dependencies below only order their deployment. Links that cannot be
named (VPC and peering ids, load balancer DNS names, the zone id) are weak cross-stack references, resolved by
CloudFormation at deploy time without export locks.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct

from policies.slo import ServiceLevelObjectives
from stacks.alerts import AlertsProps, AlertsStack
from stacks.app_secrets import AppSecretsProps, AppSecretsStack, GeneratedSecret
from stacks.backup import BackupVaultProps, BackupVaultStack, vault_arn
from stacks.backup_plan import BackupPlanProps
from stacks.cache import CacheProps, CacheStack
from stacks.certificate import CertificateProps, CertificateStack
from stacks.config import AppConfig, EnvironmentConfig, RegionConfig
from stacks.data import DataProps, DataStack
from stacks.database import DATABASE_NAME, PrimaryDatabaseProps, ReplicaDatabaseProps
from stacks.deployment_alarms import AlarmThresholds
from stacks.edge import EdgeProps, EdgeStack
from stacks.failover import HealthCheckSettings, RegionalOrigin
from stacks.keys import KeysProps, KeysStack, data_key_alias
from stacks.network import NetworkProps, NetworkStack
from stacks.observability import ObservabilityProps, ObservabilityStack
from stacks.operations import OperationsProps, OperationsStack
from stacks.origin_verify import OriginVerify
from stacks.peer_routes import PeerRoutesProps, PeerRoutesStack
from stacks.peering import PeeringProps, PeeringStack
from stacks.registry import RegistryProps, RegistryStack
from stacks.service import CacheEndpoint, ServiceProps, ServiceStack
from stacks.tracing_sidecar import TracingProps
from stacks.zone import ZoneRef, ZoneStack

GLOBAL = "global"
ORIGIN_SECRET_SLOTS = ("a", "b")


@dataclass(frozen=True, kw_only=True)
class Naming:
    """Physical names, derived in one place because other regions and ops tools look them up by name."""

    project: str
    env: str

    def prefix(self, region: RegionConfig) -> str:
        return f"{self.project}-{self.env}-{region.short_name}"

    def stack_name(self, unit: str, region: RegionConfig | None) -> str:
        """``region`` None: a global stack (it still deploys to the primary region)."""
        return f"{self.project}-{self.env}-{unit.lower()}-{region.short_name if region else GLOBAL}"

    @property
    def secret_name(self) -> str:
        return f"{self.project}/{self.env}/db"

    @property
    def cache_token(self) -> GeneratedSecret:
        return GeneratedSecret(
            id_="CacheAuthToken",
            name=f"{self.project}/{self.env}/cache",
            field="token",
            description="AUTH token of the records cache in both regions",
        )

    def alerts_topic_name(self, region: RegionConfig) -> str:
        return f"{self.prefix(region)}-alerts"

    def origin_secret(self, slot: str) -> GeneratedSecret:
        return GeneratedSecret(
            id_=f"Origin{slot.upper()}",
            name=f"{self.project}/{self.env}/origin-{slot}",
            field="value",
            description=f"Header value CloudFront sends to the load balancers (slot {slot})",
        )

    @property
    def origin_secrets(self) -> list[GeneratedSecret]:
        return [self.origin_secret(slot) for slot in ORIGIN_SECRET_SLOTS]

    def db_instance_arn(self, region: RegionConfig, account: str) -> str:
        return f"arn:aws:rds:{region.name}:{account}:db:{self.prefix(region)}"


@dataclass(frozen=True)
class RegionalStacks:
    keys: KeysStack
    network: NetworkStack
    registry: RegistryStack
    data: DataStack
    backup: BackupVaultStack
    cache: CacheStack
    certificate: CertificateStack
    service: ServiceStack
    alerts: AlertsStack
    observability: ObservabilityStack


@dataclass(frozen=True)
class Foundation:
    """What a region needs before anything else: keys, network, alerts topic."""

    keys: KeysStack
    network: NetworkStack
    alerts: AlertsStack


class EnvironmentStage(cdk.Stage):
    def __init__(
        self,
        scope: Construct,
        *,
        config: AppConfig,
        env: EnvironmentConfig,
        slo: ServiceLevelObjectives,
        image_tag: str | None = None,
    ) -> None:
        super().__init__(scope, env.name)
        self.config = config
        self.env_config = env
        self.slo = slo
        self.image_tag = image_tag or env.service.image_tag
        self.naming = Naming(project=config.project.name, env=env.name)
        self._region_roles: dict[str, str] = {}
        primary = config.region(env, "primary")
        secondary = config.region(env, "secondary")
        self.zone_stack, self.zone = self._zone(primary)
        # Networks first: each region's database admits the other region's app tier, known only once built.
        foundations = {r.name: self._foundation(r) for r in (primary, secondary)}
        self.app_secrets = self._app_secrets(primary, secondary, foundations[primary.name].keys)
        self.primary = self._regional(primary, peer=secondary, is_primary=True, built=foundations)
        self.secondary = self._regional(secondary, peer=primary, is_primary=False, built=foundations)
        self._order(self.primary, self.secondary)
        self.peering, self.peer_routes = self._peering(primary, secondary)
        self.edge = self._edge(primary, secondary)
        self.operations = self._operations(primary, secondary)

    @property
    def region_roles(self) -> dict[cdk.Stack, str]:
        """Each stack's part of the two-region design: primary, secondary or global."""
        return {
            child: self._region_roles[child.stack_name]
            for child in self.node.children
            if isinstance(child, cdk.Stack)
        }

    def _order(self, primary: RegionalStacks, secondary: RegionalStacks) -> None:
        """Deployment order for links made by name, which CloudFormation cannot see."""
        for replicated in (primary.data, self.app_secrets):
            replicated.add_stack_dependency(secondary.keys, "secrets replicate under the secondary data key alias")
        for consumer in (primary.cache, secondary.cache, primary.service, secondary.service):
            consumer.add_stack_dependency(self.app_secrets, "resolves application secrets by name")
        secondary.data.add_stack_dependency(primary.data, "the read replica needs its source instance")
        primary.registry.add_stack_dependency(
            secondary.registry, "replication must not pre-create the secondary repository"
        )
        primary.data.add_stack_dependency(primary.backup, "the backup plan stores into this region's vault")
        primary.data.add_stack_dependency(secondary.backup, "recovery points are copied into the secondary vault")

    def _stack_args(self, unit: str, region: RegionConfig, *, global_: bool = False) -> dict[str, object]:
        where = f"global, in {region.name}" if global_ else region.name
        stack_name = self.naming.stack_name(unit, None if global_ else region)
        self._region_roles[stack_name] = GLOBAL if global_ else self.region_role(region)
        return {
            "env": cdk.Environment(account=self.env_config.account, region=region.name),
            "stack_name": stack_name,
            "description": f"{self.config.project.name} {self.env_config.name} {unit} ({where})",
            "termination_protection": self.env_config.production,
        }

    def region_role(self, region: RegionConfig) -> str:
        return "primary" if region.name == self.config.project.primary_region else "secondary"

    def _foundation(self, region: RegionConfig) -> Foundation:
        env, naming, short = self.env_config, self.naming, region.short_name
        keys = KeysStack(
            self, f"Keys-{short}", props=KeysProps(alias_prefix=f"{naming.project}-{naming.env}"),
            **self._stack_args("Keys", region),
        )
        network = NetworkStack(
            self,
            f"Network-{short}",
            props=NetworkProps(
                cidr=str(region.cidr),
                azs=region.azs,
                nat_gateways=env.network.nat_gateways,
                log_retention_days=env.log_retention_days,
                telemetry_key_arn=keys.telemetry_key.key_arn,
            ),
            **self._stack_args("Network", region),
        )
        alerts = AlertsStack(
            self,
            f"Alerts-{short}",
            props=AlertsProps(
                topic_name=naming.alerts_topic_name(region),
                telemetry_key_arn=keys.telemetry_key.key_arn,
                emails=env.operations.alert_emails,
            ),
            **self._stack_args("Alerts", region),
        )
        return Foundation(keys=keys, network=network, alerts=alerts)

    def _regional(
        self,
        region: RegionConfig,
        *,
        peer: RegionConfig,
        is_primary: bool,
        built: dict[str, Foundation],
    ) -> RegionalStacks:
        env, naming, short = self.env_config, self.naming, region.short_name
        keys, network, alerts = built[region.name].keys, built[region.name].network, built[region.name].alerts
        peer_network = built[peer.name].network
        registry = RegistryStack(
            self,
            f"Registry-{short}",
            props=RegistryProps(
                repository_name=self.config.project.repository_name,
                keep_last_images=env.registry.keep_last_images,
                data_key_arn=keys.data_key.key_arn,
                replicate_to_region=peer.name if is_primary else None,
            ),
            **self._stack_args("Registry", region),
        )
        backup = BackupVaultStack(
            self, f"Backup-{short}", props=self._vault_props(region, keys),
            **self._stack_args("Backup", region),
        )
        data = DataStack(
            self,
            f"Data-{short}",
            props=self._data_props(region, peer, keys, network, peer_network, is_primary),
            **self._stack_args("Data", region),
        )
        cache = CacheStack(
            self,
            f"Cache-{short}",
            props=CacheProps(
                vpc=network.vpc,
                replication_group_id=naming.prefix(region),
                node_type=env.cache.node_type,
                nodes=env.cache.nodes,
                port=env.cache.port,
                data_key_arn=keys.data_key.key_arn,
                telemetry_key_arn=keys.telemetry_key.key_arn,
                log_retention_days=env.log_retention_days,
                auth_token=naming.cache_token,
            ),
            **self._stack_args("Cache", region),
        )
        certificate = CertificateStack(
            self,
            f"Certificate-{short}",
            props=CertificateProps(domain_name=env.domain_name, zone=self.zone),
            **self._stack_args("Certificate", region),
        )
        if self.zone_stack is not None:
            certificate.add_stack_dependency(self.zone_stack, "the certificate validates in the zone")
        service = ServiceStack(
            self,
            f"Service-{short}",
            props=self._service_props(region, keys, network, data, cache, certificate, alerts),
            **self._stack_args("Service", region),
        )
        service.add_stack_dependency(registry, "the image repository must exist")
        observability = ObservabilityStack(
            self,
            f"Observability-{short}",
            props=self._observability_props(region, keys, alerts, service, cache, is_primary),
            **self._stack_args("Observability", region),
        )
        for stack in (service, observability):
            stack.add_stack_dependency(alerts, "alarms and rules notify the alerts topic (named, not referenced)")
        return RegionalStacks(
            keys=keys,
            network=network,
            registry=registry,
            data=data,
            backup=backup,
            cache=cache,
            certificate=certificate,
            service=service,
            alerts=alerts,
            observability=observability,
        )

    def _app_secrets(self, primary: RegionConfig, secondary: RegionConfig, keys: KeysStack) -> AppSecretsStack:
        naming = self.naming
        return AppSecretsStack(
            self,
            f"Secrets-{primary.short_name}",
            props=AppSecretsProps(
                secrets=[naming.cache_token, *naming.origin_secrets],
                data_key_arn=keys.data_key.key_arn,
                replica_region=secondary.name,
                replica_key_alias=data_key_alias(f"{naming.project}-{naming.env}"),
            ),
            **self._stack_args("Secrets", primary),
        )

    def _zone(self, primary: RegionConfig) -> tuple[ZoneStack | None, ZoneRef]:
        env = self.env_config
        if env.dns.hosted_zone_id is not None:
            return None, ZoneRef(zone_id=env.dns.hosted_zone_id, zone_name=env.domain_name)
        stack = ZoneStack(self, "Zone", zone_name=env.domain_name, **self._stack_args("Zone", primary, global_=True))
        return stack, stack.ref

    def _peering(self, primary: RegionConfig, secondary: RegionConfig) -> tuple[PeeringStack, PeerRoutesStack]:
        first, second = self.primary.network, self.secondary.network
        peering = PeeringStack(
            self,
            f"Peering-{secondary.short_name}",
            props=PeeringProps(
                vpc=second.vpc,
                peer_vpc_id=first.vpc.vpc_id,
                peer_region=primary.name,
                peer_cidrs=first.private_cidrs,
            ),
            **self._stack_args("Peering", secondary),
        )
        routes = PeerRoutesStack(
            self,
            f"PeerRoutes-{primary.short_name}",
            props=PeerRoutesProps(
                vpc=first.vpc, peer_cidrs=second.private_cidrs, peering_connection_id=peering.connection_id
            ),
            **self._stack_args("PeerRoutes", primary),
        )
        return peering, routes

    def _edge(self, primary: RegionConfig, secondary: RegionConfig) -> EdgeStack:
        env = self.env_config
        stack = EdgeStack(
            self,
            "Edge",
            props=EdgeProps(
                name_prefix=f"{self.naming.project}-{self.naming.env}",
                domain_name=env.domain_name,
                zone=self.zone,
                origins=[
                    RegionalOrigin(
                        region=primary.name,
                        role="PRIMARY",
                        load_balancer=self.primary.service.load_balancer,
                        alarm_prefix=self.naming.prefix(primary),
                    ),
                    RegionalOrigin(
                        region=secondary.name,
                        role="SECONDARY",
                        load_balancer=self.secondary.service.load_balancer,
                        alarm_prefix=self.naming.prefix(secondary),
                    ),
                ],
                health=HealthCheckSettings(
                    path=env.dns.health_check_path,
                    interval_seconds=env.dns.health_check_interval_seconds,
                    failure_threshold=env.dns.health_check_failure_threshold,
                ),
                telemetry_key_arn=self.primary.keys.telemetry_key.key_arn,
                log_retention_days=env.log_retention_days,
                waf_rate_limit_per_5_minutes=env.service.waf_rate_limit_per_5_minutes,
                allowed_countries=self.config.project.cdn.allowed_countries,
                static_ttl_seconds=self.config.project.cdn.static_ttl_seconds,
                origin_secret=self.naming.origin_secret(self.config.project.cdn.active_origin_secret),
                alerts_topic_arn=self.primary.alerts.topic_arn,
                slo=self.slo,
            ),
            **self._stack_args("Edge", primary, global_=True),
        )
        if self.zone_stack is not None:
            stack.add_stack_dependency(self.zone_stack, "records go into the zone")
        stack.add_stack_dependency(self.app_secrets, "CloudFront sends the origin secret")
        stack.add_stack_dependency(self.primary.alerts, "health-check alarms notify the alerts topic")
        return stack

    def _operations(self, primary: RegionConfig, secondary: RegionConfig) -> OperationsStack:
        stack = OperationsStack(
            self,
            "Operations",
            props=OperationsProps(
                name_prefix=f"{self.naming.project}-{self.naming.env}",
                project=self.naming.project,
                env=self.env_config,
                github=self.config.project.github,
                regions=[primary.name, secondary.name],
                repository_name=self.config.project.repository_name,
                alerts_topic_arn=self.primary.alerts.topic_arn,
                telemetry_key_arn=self.primary.keys.telemetry_key.key_arn,
            ),
            **self._stack_args("Operations", primary, global_=True),
        )
        stack.add_stack_dependency(self.primary.alerts, "the budget notifies the alerts topic")
        return stack

    def _observability_props(
        self,
        region: RegionConfig,
        keys: KeysStack,
        alerts: AlertsStack,
        service: ServiceStack,
        cache: CacheStack,
        is_primary: bool,
    ) -> ObservabilityProps:
        env = self.env_config
        return ObservabilityProps(
            name_prefix=self.naming.prefix(region),
            service_name=self.config.project.name,
            slo=self.slo,
            topic_arn=alerts.topic_arn,
            telemetry_key_arn=keys.telemetry_key.key_arn,
            log_retention_days=env.log_retention_days,
            load_balancer=service.load_balancer,
            target_groups=[service.blue, service.green],
            service=service.service,
            cluster_name=service.cluster.cluster_name,
            deployment_alarms=service.deployment_alarms.by_key,
            database_instance_id=self.naming.prefix(region),
            database_arn=self.naming.db_instance_arn(region, env.account),
            replica=not is_primary,
            cache_node_ids=[f"{cache.replication_group_id}-{n:03d}" for n in range(1, env.cache.nodes + 1)],
            web_acl_name=service.waf.name,
            trace_sampling_percent=env.operations.trace_sampling_percent,
        )

    def _vault_props(self, region: RegionConfig, keys: KeysStack) -> BackupVaultProps:
        backup = self.env_config.backup
        return BackupVaultProps(
            vault_name=self.naming.prefix(region),
            data_key_arn=keys.data_key.key_arn,
            min_retention_days=backup.vault_lock_min_retention_days,
            vault_lock=backup.vault_lock,
            vault_lock_grace_days=backup.vault_lock_grace_days,
        )

    def _data_props(
        self,
        region: RegionConfig,
        peer: RegionConfig,
        keys: KeysStack,
        network: NetworkStack,
        peer_network: NetworkStack,
        is_primary: bool,
    ) -> DataProps:
        env, naming = self.env_config, self.naming
        common = {
            "vpc": network.vpc,
            "client_cidrs": network.app_cidrs,
            "peer_client_cidrs": peer_network.app_cidrs,
            "instance_identifier": naming.prefix(region),
            "instance_class": env.database.instance_class,
            "port": env.database.port,
            "deletion_protection": env.database.deletion_protection,
            "log_retention_days": env.log_retention_days,
        }
        if not is_primary:
            return DataProps(
                replica=ReplicaDatabaseProps(
                    **common,  # type: ignore[arg-type]
                    source_instance_arn=naming.db_instance_arn(peer, env.account),
                ),
                keys=keys.arns,
            )
        return DataProps(
            primary=PrimaryDatabaseProps(
                **common,  # type: ignore[arg-type]
                allocated_storage_gib=env.database.allocated_storage_gib,
                max_allocated_storage_gib=env.database.max_allocated_storage_gib,
                backup_retention_days=env.database.backup_retention_days,
                secret_name=naming.secret_name,
                secret_replica_region=peer.name,
                secret_replica_key_alias=data_key_alias(f"{naming.project}-{naming.env}"),
                proxy_name=naming.prefix(region),
            ),
            backup=BackupPlanProps(
                vault_arn=vault_arn(region.name, env.account, naming.prefix(region)),
                retention_days=env.backup.retention_days,
                copy_vault_arn=vault_arn(peer.name, env.account, naming.prefix(peer)),
                copy_retention_days=env.backup.copy_retention_days,
            ),
            keys=keys.arns,
        )

    def _service_props(
        self,
        region: RegionConfig,
        keys: KeysStack,
        network: NetworkStack,
        data: DataStack,
        cache: CacheStack,
        certificate: CertificateStack,
        alerts: AlertsStack,
    ) -> ServiceProps:
        env, service = self.env_config, self.env_config.service
        return ServiceProps(
            name_prefix=self.naming.prefix(region),
            environment=env.name,
            vpc=network.vpc,
            keys=keys.arns,
            repository_name=self.config.project.repository_name,
            image_tag=self.image_tag,
            database_host=data.endpoint,
            database_port=data.endpoint_port,
            database_name=DATABASE_NAME,
            database_secret_name=self.naming.secret_name,
            certificate=certificate.certificate,
            cache=CacheEndpoint(
                host=cache.host,
                port=cache.port,
                auth_secret_name=cache.auth_secret_name,
                client_security_group_id=cache.client_security_group.security_group_id,
            ),
            cpu=service.cpu,
            memory_mib=service.memory_mib,
            desired_count=service.desired_count,
            min_count=service.min_count,
            max_count=service.max_count,
            container_port=service.container_port,
            deployment_strategy=service.deployment_strategy,
            canary_percent=service.canary_percent,
            bake_time_minutes=service.bake_time_minutes,
            fargate_spot=service.fargate_spot,
            requests_per_task_per_minute=service.requests_per_task_per_minute,
            waf_rate_limit_per_5_minutes=service.waf_rate_limit_per_5_minutes,
            origin_verify=OriginVerify(accepted=self.naming.origin_secrets, exempt_path=env.dns.health_check_path),
            tracing=TracingProps(
                image=self.config.project.adot_image,
                sampling_percent=env.operations.trace_sampling_percent,
                service_name=self.config.project.name,
            ),
            alerts_topic_arn=alerts.topic_arn,
            log_retention_days=env.log_retention_days,
            thresholds=AlarmThresholds.from_slo(self.slo),
        )
