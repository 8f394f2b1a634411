"""PostgreSQL: the primary instance with its proxy and rotated secret, and the cross-region read replica."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.keys import KeyRefs
from stacks.logging import encrypted_log_group
from stacks.network import DATA_TIER
from stacks.roles import ManagedRole

ENGINE_VERSION = rds.PostgresEngineVersion.VER_17_9
LOG_EXPORTS = ("postgresql", "upgrade")
PROXY_PORT = 5432  # RDS Proxy listens on the engine's default port whatever the instance uses
DATABASE_NAME = "records"
MASTER_USERNAME = "records_admin"
ROTATION_DAYS = 30


@dataclass(frozen=True, kw_only=True)
class DatabaseProps:
    vpc: ec2.IVpc
    client_cidrs: Sequence[str]  # app-tier subnets allowed to connect
    peer_client_cidrs: Sequence[str] = ()  # the other region's app tier, over VPC peering
    instance_identifier: str
    instance_class: str  # without the "db." prefix, which ec2.InstanceType adds
    port: int
    deletion_protection: bool
    log_retention_days: int
    monitoring_interval: Duration = Duration.seconds(60)


def _engine() -> rds.IInstanceEngine:
    return rds.DatabaseInstanceEngine.postgres(version=ENGINE_VERSION)


def _parameter_group(scope: Construct) -> rds.ParameterGroup:
    return rds.ParameterGroup(
        scope,
        "Parameters",
        engine=_engine(),
        description="TLS-only connections and connection/slow-query logging",
        parameters={
            "rds.force_ssl": "1",
            "log_connections": "1",
            "log_disconnections": "1",
            "log_min_duration_statement": "1000",
        },
    )


def _log_groups(scope: Construct, props: DatabaseProps, keys: KeyRefs) -> list[logs.LogGroup]:
    """Create the export log groups first so RDS writes into encrypted groups with our retention."""
    return [
        encrypted_log_group(
            scope,
            f"Logs-{export}",
            key=keys.telemetry,
            retention_days=props.log_retention_days,
            log_group_name=f"/aws/rds/instance/{props.instance_identifier}/{export}",
        )
        for export in LOG_EXPORTS
    ]


def _hardened_instance(
    scope: Construct, props: DatabaseProps, keys: KeyRefs, security_group: ec2.ISecurityGroup
) -> dict[str, Any]:
    """What the primary and its replica share, so that a promoted replica is the primary's equal: placement in the
    data tier, this region's data key, gp3 (the L2 default for a replica is gp2), Multi-AZ, TLS and IAM auth,
    monitoring, log exports, no public access. A dict because the two L2 classes share no props type."""
    return {
        "instance_type": ec2.InstanceType(props.instance_class),
        "vpc": props.vpc,
        "vpc_subnets": ec2.SubnetSelection(subnet_group_name=DATA_TIER),
        "security_groups": [security_group],
        "port": props.port,
        "multi_az": True,
        "storage_encryption_key": keys.data,
        "storage_type": rds.StorageType.GP3,
        "deletion_protection": props.deletion_protection,
        "iam_authentication": True,
        "auto_minor_version_upgrade": True,
        "monitoring_interval": props.monitoring_interval,
        "enable_performance_insights": True,
        "performance_insight_encryption_key": keys.data,
        "cloudwatch_logs_exports": list(LOG_EXPORTS),
        "parameter_group": _parameter_group(scope),
        "ca_certificate": rds.CaCertificate.RDS_CA_RSA2048_G1,
        "publicly_accessible": False,
    }


def _security_group(scope: Construct, props: DatabaseProps, description: str) -> ec2.SecurityGroup:
    return ec2.SecurityGroup(scope, "Sg", vpc=props.vpc, description=description, allow_all_outbound=False)


def _admit_clients(group: ec2.SecurityGroup, props: DatabaseProps, port: int) -> None:
    for cidr in props.client_cidrs:
        group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(port), "app tier")
    for cidr in props.peer_client_cidrs:
        # Operators' tasks in the other region (switchover checks that the old primary is fenced, lag probes).
        group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(port), "peer region app tier over VPC peering")


@dataclass(frozen=True, kw_only=True)
class PrimaryDatabaseProps(DatabaseProps):
    allocated_storage_gib: int
    max_allocated_storage_gib: int
    backup_retention_days: int
    secret_name: str
    secret_replica_region: str
    secret_replica_key_alias: str  # alias in the replica region; its key ARN is unknown here
    proxy_name: str


class PrimaryDatabase(Construct):
    """Multi-AZ PostgreSQL reached through an IAM-authenticated RDS Proxy; its secret rotates and replicates."""

    def __init__(self, scope: Construct, id_: str, *, props: PrimaryDatabaseProps, keys: KeyRefs) -> None:
        super().__init__(scope, id_)
        self.secret = rds.DatabaseSecret(
            self,
            "Secret",
            username=MASTER_USERNAME,
            secret_name=props.secret_name,
            encryption_key=keys.data,
        )
        secret_resource = self.secret.node.default_child
        assert isinstance(secret_resource, secretsmanager.CfnSecret)
        # The replica region resolves the alias itself; ReplicaRegion in the L2 would render this region's ARN.
        secret_resource.replica_regions = [
            secretsmanager.CfnSecret.ReplicaRegionProperty(
                region=props.secret_replica_region, kms_key_id=props.secret_replica_key_alias
            )
        ]
        self.security_group = _security_group(self, props, "PostgreSQL primary: proxy and rotation only")
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=_engine(),
            instance_identifier=props.instance_identifier,
            credentials=rds.Credentials.from_secret(self.secret),
            database_name=DATABASE_NAME,
            storage_encrypted=True,
            allocated_storage=props.allocated_storage_gib,
            max_allocated_storage=props.max_allocated_storage_gib,
            backup_retention=Duration.days(props.backup_retention_days),
            copy_tags_to_snapshot=True,
            removal_policy=RemovalPolicy.SNAPSHOT,
            **_hardened_instance(self, props, keys, self.security_group),
        )
        for group in _log_groups(self, props, keys):
            self.instance.node.add_dependency(group)
        self._add_rotation(props)
        self._add_proxy(props, keys.data)

    def _add_rotation(self, props: DatabaseProps) -> None:
        rotation_sg = ec2.SecurityGroup(
            self, "RotationSg", vpc=props.vpc, description="Hosted secret rotation function"
        )
        self.security_group.add_ingress_rule(rotation_sg, ec2.Port.tcp(props.port), "secret rotation")
        # Hosted rotation: Secrets Manager owns the function, so no helper Lambda lands in this template.
        self.secret.add_rotation_schedule(
            "Rotation",
            automatically_after=Duration.days(ROTATION_DAYS),
            hosted_rotation=secretsmanager.HostedRotation.postgre_sql_single_user(
                vpc=props.vpc,
                vpc_subnets=ec2.SubnetSelection(subnet_group_name=DATA_TIER),
                security_groups=[rotation_sg],
            ),
        )

    def _add_proxy(self, props: PrimaryDatabaseProps, data_key: kms.IKey) -> None:
        proxy_sg = ec2.SecurityGroup(
            self, "ProxySg", vpc=props.vpc, description="RDS Proxy: PostgreSQL from the app tier"
        )
        _admit_clients(proxy_sg, props, PROXY_PORT)
        self.security_group.add_ingress_rule(proxy_sg, ec2.Port.tcp(props.port), "RDS Proxy")
        proxy_role = ManagedRole(
            self,
            "ProxyRole",
            assumed_by=iam.ServicePrincipal("rds.amazonaws.com"),
            description="RDS Proxy reads the database secret",
            statements=[
                iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[self.secret.secret_arn]),
                iam.PolicyStatement(actions=["kms:Decrypt"], resources=[data_key.key_arn]),
            ],
        )
        self.proxy = rds.DatabaseProxy(
            self,
            "Proxy",
            db_proxy_name=props.proxy_name,
            proxy_target=rds.ProxyTarget.from_instance(self.instance),
            secrets=[self.secret],
            vpc=props.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_group_name=DATA_TIER),
            security_groups=[proxy_sg],
            require_tls=True,
            # Clients log in with the secret's password (the service reads it from Secrets Manager and re-reads
            # it after rotation), so the proxy must not demand IAM tokens. IAM auth stays on at the instance
            # for operators' break-glass access.
            iam_auth=False,
            role=proxy_role.immutable,
        )
        self._drop_token_port_rule()
        self.endpoint = self.proxy.endpoint
        self.endpoint_port = PROXY_PORT

    def _drop_token_port_rule(self) -> None:
        """Remove the proxy's own ingress rule, which states the port as a token (the endpoint's Port).

        Rules cannot judge a token port and report it as a violation; the rule added in ``_add_proxy`` grants
        the same access with the literal port.
        """
        generated = [c.node.id for c in self.security_group.node.children if "{IndirectPort}" in c.node.id]
        for child_id in generated:
            self.security_group.node.try_remove_child(child_id)


@dataclass(frozen=True, kw_only=True)
class ReplicaDatabaseProps(DatabaseProps):
    source_instance_arn: str


class ReplicaDatabase(Construct):
    """A cross-region read replica: the standby that DR promotes.

    RDS Proxy cannot front a read replica, so the secondary service connects to the instance directly.
    """

    def __init__(self, scope: Construct, id_: str, *, props: ReplicaDatabaseProps, keys: KeyRefs) -> None:
        super().__init__(scope, id_)
        self.security_group = _security_group(self, props, "PostgreSQL replica: app tier only")
        _admit_clients(self.security_group, props, props.port)
        # The L2 wants a source construct; the source lives in another region, so it is imported by name here
        # and its ARN set below from configuration, which needs no cross-region reference at all.
        source = rds.DatabaseInstance.from_database_instance_attributes(
            self,
            "Source",
            instance_identifier=props.source_instance_arn.rsplit(":", 1)[-1],
            instance_endpoint_address="source.invalid",
            port=props.port,
            security_groups=[],
            engine=_engine(),
        )
        self.instance = rds.DatabaseInstanceReadReplica(
            self,
            "Instance",
            source_database_instance=source,
            instance_identifier=props.instance_identifier,
            # Encrypted with this region's key (in the shared settings); StorageEncrypted itself is inherited from
            # the source and may not be stated on a replica (CloudFormation validator F3020).
            removal_policy=RemovalPolicy.RETAIN,
            **_hardened_instance(self, props, keys, self.security_group),
        )
        replica_resource = self.instance.node.default_child
        assert isinstance(replica_resource, rds.CfnDBInstance)
        replica_resource.source_db_instance_identifier = props.source_instance_arn
        # The L2 states StorageEncrypted whenever a key is given; a replica inherits it and may not state it.
        replica_resource.storage_encrypted = None
        # The L2 leaves the port to be inherited; stating it keeps the non-default port visible to reviewers.
        replica_resource.port = str(props.port)
        for group in _log_groups(self, props, keys):
            self.instance.node.add_dependency(group)
        self.endpoint = self.instance.db_instance_endpoint_address
        self.endpoint_port = props.port
