"""The props of the stage's stacks, built from the environment's configuration: what each stack is given, apart
from how the stage wires the stacks together (``stacks/stage.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from policies.slo import ServiceLevelObjectives
from stacks.alerts import AlertsStack
from stacks.app_secrets import GeneratedSecret
from stacks.backup import BackupVaultProps, vault_arn
from stacks.backup_plan import BackupPlanProps
from stacks.cache import CacheStack
from stacks.certificate import CertificateStack
from stacks.config import AppConfig, EnvironmentConfig, RegionConfig
from stacks.data import DataProps, DataStack
from stacks.database import DATABASE_NAME, PrimaryDatabaseProps, ReplicaDatabaseProps
from stacks.deployment_alarms import AlarmThresholds
from stacks.keys import KeysStack, data_key_alias
from stacks.naming import ORIGIN_SECRET_SLOTS, Naming
from stacks.network import NetworkStack
from stacks.observability import ObservabilityProps
from stacks.origin_verify import OriginVerify
from stacks.service import CacheEndpoint, ServiceProps, ServiceStack
from stacks.tracing_sidecar import TracingProps


def cache_token(naming: Naming) -> GeneratedSecret:
    return GeneratedSecret(
        id_="CacheAuthToken",
        name=naming.cache_secret_name,
        field="token",
        description="AUTH token of the records cache in both regions",
    )


def origin_secret(naming: Naming, slot: str) -> GeneratedSecret:
    return GeneratedSecret(
        id_=f"Origin{slot.upper()}",
        name=naming.origin_secret_name(slot),
        field="value",
        description=f"Header value CloudFront sends to the load balancers (slot {slot})",
    )


def origin_secrets(naming: Naming) -> list[GeneratedSecret]:
    return [origin_secret(naming, slot) for slot in ORIGIN_SECRET_SLOTS]


@dataclass(frozen=True, kw_only=True)
class StackProps:
    """Builds the props of the stacks whose settings come from several parts of the configuration."""

    config: AppConfig
    env_config: EnvironmentConfig
    slo: ServiceLevelObjectives
    image_tag: str
    naming: Naming

    def observability(
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
            name_prefix=self.naming.prefix(region.short_name),
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
            database_instance_id=self.naming.db_instance_id(region.short_name),
            database_arn=self.naming.db_instance_arn(region.name, region.short_name, env.account),
            replica=not is_primary,
            cache_node_ids=[f"{cache.replication_group_id}-{n:03d}" for n in range(1, env.cache.nodes + 1)],
            web_acl_name=service.waf.name,
            trace_sampling_percent=env.operations.trace_sampling_percent,
        )

    def vault(self, region: RegionConfig, keys: KeysStack) -> BackupVaultProps:
        backup = self.env_config.backup
        return BackupVaultProps(
            vault_name=self.naming.prefix(region.short_name),
            data_key_arn=keys.data_key.key_arn,
            min_retention_days=backup.vault_lock_min_retention_days,
            vault_lock=backup.vault_lock,
            vault_lock_grace_days=backup.vault_lock_grace_days,
        )

    def data(
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
            "instance_identifier": naming.db_instance_id(region.short_name),
            "instance_class": env.database.instance_class,
            "port": env.database.port,
            "deletion_protection": env.database.deletion_protection,
            "log_retention_days": env.log_retention_days,
        }
        if not is_primary:
            return DataProps(
                replica=ReplicaDatabaseProps(
                    **common,  # type: ignore[arg-type]
                    source_instance_arn=naming.db_instance_arn(peer.name, peer.short_name, env.account),
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
                secret_replica_key_alias=data_key_alias(naming.base),
                proxy_name=naming.prefix(region.short_name),
            ),
            backup=BackupPlanProps(
                vault_arn=vault_arn(region.name, env.account, naming.prefix(region.short_name)),
                retention_days=env.backup.retention_days,
                copy_vault_arn=vault_arn(peer.name, env.account, naming.prefix(peer.short_name)),
                copy_retention_days=env.backup.copy_retention_days,
            ),
            keys=keys.arns,
        )

    def service(
        self,
        region: RegionConfig,
        keys: KeysStack,
        network: NetworkStack,
        data: DataStack,
        cache: CacheStack,
        certificate: CertificateStack,
        alerts: AlertsStack,
    ) -> ServiceProps:
        env = self.env_config
        return ServiceProps(
            name_prefix=self.naming.prefix(region.short_name),
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
            settings=env.service,
            origin_verify=OriginVerify(accepted=origin_secrets(self.naming), exempt_path=env.dns.health_check_path),
            tracing=TracingProps(
                image=self.config.project.adot_image,
                sampling_percent=env.operations.trace_sampling_percent,
                service_name=self.config.project.name,
            ),
            alerts_topic_arn=alerts.topic_arn,
            log_retention_days=env.log_retention_days,
            thresholds=AlarmThresholds.from_slo(self.slo),
        )
