"""One Stage per environment: the regional stacks of the primary and the secondary region, wired together.

Cross-region links (replica source, secret replica key) are derived from configuration and names, never
from cross-region references, so neither region's template depends on the other's outputs. The explicit
dependencies below only order deployment.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct

from policies.slo import ServiceLevelObjectives
from stacks.backup import BackupProps
from stacks.config import AppConfig, EnvironmentConfig, RegionConfig
from stacks.data import DataProps, DataStack
from stacks.database import DATABASE_NAME, PrimaryDatabaseProps, ReplicaDatabaseProps
from stacks.deployment_alarms import AlarmThresholds
from stacks.keys import KeysProps, KeysStack, data_key_alias
from stacks.network import NetworkProps, NetworkStack
from stacks.registry import RegistryProps, RegistryStack
from stacks.service import ServiceProps, ServiceStack


@dataclass(frozen=True, kw_only=True)
class Naming:
    """Physical names, derived in one place because other regions and ops tools look them up by name."""

    project: str
    env: str

    def prefix(self, region: RegionConfig) -> str:
        return f"{self.project}-{self.env}-{region.short_name}"

    def stack_name(self, unit: str, region: RegionConfig) -> str:
        return f"{self.project}-{self.env}-{unit.lower()}-{region.short_name}"

    @property
    def secret_name(self) -> str:
        return f"{self.project}/{self.env}/db"

    def db_instance_arn(self, region: RegionConfig, account: str) -> str:
        return f"arn:aws:rds:{region.name}:{account}:db:{self.prefix(region)}"


@dataclass(frozen=True)
class RegionalStacks:
    keys: KeysStack
    network: NetworkStack
    registry: RegistryStack
    data: DataStack
    service: ServiceStack


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
        primary = config.region(env, "primary")
        secondary = config.region(env, "secondary")
        self.primary = self._regional(primary, peer=secondary, is_primary=True)
        self.secondary = self._regional(secondary, peer=primary, is_primary=False)
        self.primary.data.add_stack_dependency(self.secondary.keys, "the secret replica uses the secondary data key")
        self.secondary.data.add_stack_dependency(self.primary.data, "the read replica needs its source instance")
        self.primary.registry.add_stack_dependency(
            self.secondary.registry, "replication must not pre-create the secondary repository"
        )

    def _stack_args(self, unit: str, region: RegionConfig) -> dict[str, object]:
        return {
            "env": cdk.Environment(account=self.env_config.account, region=region.name),
            "stack_name": self.naming.stack_name(unit, region),
            "description": f"{self.config.project.name} {self.env_config.name} {unit} ({region.name})",
            "termination_protection": self.env_config.production,
        }

    def _regional(self, region: RegionConfig, *, peer: RegionConfig, is_primary: bool) -> RegionalStacks:
        env = self.env_config
        naming = self.naming
        short = region.short_name
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
        data = DataStack(
            self, f"Data-{short}", props=self._data_props(region, peer, keys, network, is_primary),
            **self._stack_args("Data", region),
        )
        service = ServiceStack(
            self,
            f"Service-{short}",
            props=self._service_props(region, keys, network, data),
            **self._stack_args("Service", region),
        )
        service.add_stack_dependency(registry, "the image repository must exist")
        return RegionalStacks(keys=keys, network=network, registry=registry, data=data, service=service)

    def _data_props(
        self, region: RegionConfig, peer: RegionConfig, keys: KeysStack, network: NetworkStack, is_primary: bool
    ) -> DataProps:
        env, naming = self.env_config, self.naming
        common = {
            "vpc": network.vpc,
            "client_cidrs": network.app_cidrs,
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
            backup=BackupProps(
                vault_name=naming.prefix(region),
                retention_days=env.database.backup_retention_days,
            ),
            keys=keys.arns,
        )

    def _service_props(
        self, region: RegionConfig, keys: KeysStack, network: NetworkStack, data: DataStack
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
            domain_name=env.domain_name,
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
            log_retention_days=env.log_retention_days,
            thresholds=AlarmThresholds.from_slo(self.slo),
        )
