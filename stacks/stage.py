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
from stacks.app_secrets import AppSecretsProps, AppSecretsStack
from stacks.backup import BackupVaultStack
from stacks.cache import CacheProps, CacheStack
from stacks.certificate import CertificateProps, CertificateStack
from stacks.compliance import ComplianceProps, ComplianceStack
from stacks.config import AppConfig, EnvironmentConfig, RegionConfig
from stacks.data import DataStack
from stacks.edge import EdgeProps, EdgeStack
from stacks.failover import HealthCheckSettings, RegionalOrigin
from stacks.keys import KeysProps, KeysStack, data_key_alias
from stacks.naming import GLOBAL, Naming
from stacks.network import NetworkProps, NetworkStack
from stacks.observability import ObservabilityStack
from stacks.operations import OperationsProps, OperationsStack
from stacks.peer_routes import PeerRoutesProps, PeerRoutesStack
from stacks.peering import PeeringProps, PeeringStack
from stacks.registry import RegistryProps, RegistryStack
from stacks.service import ServiceStack
from stacks.stack_args import StackArgs
from stacks.stage_props import StackProps, cache_token, origin_secret, origin_secrets
from stacks.zone import ZoneRef, ZoneStack


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
    compliance: ComplianceStack


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
        self.props = StackProps(config=config, env_config=env, slo=slo, image_tag=self.image_tag, naming=self.naming)
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
            child: GLOBAL if child.stack_name.endswith(f"-{GLOBAL}") else self._role_in(child.region)
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

    def _stack_args(self, unit: str, region: RegionConfig, *, global_: bool = False) -> StackArgs:
        where = f"global, in {region.name}" if global_ else region.name
        return StackArgs(
            env=cdk.Environment(account=self.env_config.account, region=region.name),
            stack_name=self.naming.stack_name(unit, None if global_ else region.short_name),
            description=f"{self.config.project.name} {self.env_config.name} {unit} ({where})",
            termination_protection=self.env_config.production,
        )

    def region_role(self, region: RegionConfig) -> str:
        return self._role_in(region.name)

    def _role_in(self, region: str) -> str:
        return "primary" if region == self.config.project.primary_region else "secondary"

    def _foundation(self, region: RegionConfig) -> Foundation:
        env, naming, short = self.env_config, self.naming, region.short_name
        keys = KeysStack(
            self, f"Keys-{short}", props=KeysProps(alias_prefix=naming.base),
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
                topic_name=naming.alerts_topic_name(region.short_name),
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
            self, f"Backup-{short}", props=self.props.vault(region, keys),
            **self._stack_args("Backup", region),
        )
        data = DataStack(
            self,
            f"Data-{short}",
            props=self.props.data(region, peer, keys, network, peer_network, is_primary),
            **self._stack_args("Data", region),
        )
        cache = CacheStack(
            self,
            f"Cache-{short}",
            props=CacheProps(
                vpc=network.vpc,
                replication_group_id=naming.prefix(region.short_name),
                node_type=env.cache.node_type,
                nodes=env.cache.nodes,
                port=env.cache.port,
                data_key_arn=keys.data_key.key_arn,
                telemetry_key_arn=keys.telemetry_key.key_arn,
                log_retention_days=env.log_retention_days,
                auth_token=cache_token(naming),
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
            props=self.props.service(region, keys, network, data, cache, certificate, alerts),
            **self._stack_args("Service", region),
        )
        service.add_stack_dependency(registry, "the image repository must exist")
        observability = ObservabilityStack(
            self,
            f"Observability-{short}",
            props=self.props.observability(region, keys, alerts, service, cache, is_primary),
            **self._stack_args("Observability", region),
        )
        compliance = ComplianceStack(
            self,
            f"Compliance-{short}",
            props=ComplianceProps(
                naming=naming,
                short=short,
                record_global_resources=is_primary,
                retention_days=env.operations.audit_retention_days,
                secret_rotation_days=env.operations.secret_rotation_days,
                alerts_topic_arn=alerts.topic_arn,
            ),
            **self._stack_args("Compliance", region),
        )
        for stack in (service, observability, compliance):
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
            compliance=compliance,
        )

    def _app_secrets(self, primary: RegionConfig, secondary: RegionConfig, keys: KeysStack) -> AppSecretsStack:
        naming = self.naming
        return AppSecretsStack(
            self,
            f"Secrets-{primary.short_name}",
            props=AppSecretsProps(
                secrets=[cache_token(naming), *origin_secrets(naming)],
                data_key_arn=keys.data_key.key_arn,
                replica_region=secondary.name,
                replica_key_alias=data_key_alias(naming.base),
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
                name_prefix=self.naming.base,
                domain_name=env.domain_name,
                zone=self.zone,
                origins=[
                    RegionalOrigin(
                        region=primary.name,
                        role="PRIMARY",
                        load_balancer=self.primary.service.load_balancer,
                        alarm_prefix=self.naming.prefix(primary.short_name),
                    ),
                    RegionalOrigin(
                        region=secondary.name,
                        role="SECONDARY",
                        load_balancer=self.secondary.service.load_balancer,
                        alarm_prefix=self.naming.prefix(secondary.short_name),
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
                origin_secret=origin_secret(self.naming, self.config.project.cdn.active_origin_secret),
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
                name_prefix=self.naming.base,
                project=self.naming.project,
                env=self.env_config,
                github=self.config.project.github,
                regions=[primary.name, secondary.name],
                repository_name=self.config.project.repository_name,
                alerts_topic_arn=self.primary.alerts.topic_arn,
                telemetry_key_arn=self.primary.keys.telemetry_key.key_arn,
                evidence_signing_secret=self.naming.evidence_signing_secret_name,
            ),
            **self._stack_args("Operations", primary, global_=True),
        )
        stack.add_stack_dependency(self.primary.alerts, "the budget notifies the alerts topic")
        return stack
