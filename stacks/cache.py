"""The regional read-through cache: a Valkey replication group in the data tier, reachable only from the service.

Its AUTH token is an application secret created once in the primary region and replicated to the secondary, so
both regions' caches and services read the same secret name locally (like the database secret).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.keys import imported_key
from stacks.logging import encrypted_log_group
from stacks.network import DATA_TIER

ENGINE = "valkey"
ENGINE_VERSION = "8.0"
AUTH_TOKEN_FIELD = "token"
# ElastiCache AUTH tokens: 16-128 printable characters without '/', '"' or '@'; letters and digits only is safest.
AUTH_TOKEN_LENGTH = 64


@dataclass(frozen=True, kw_only=True)
class CacheProps:
    vpc: ec2.IVpc
    replication_group_id: str
    node_type: str
    nodes: int
    port: int
    data_key_arn: str
    telemetry_key_arn: str
    log_retention_days: int
    auth_secret_name: str
    # Primary region only: where the AUTH token secret is replicated, encrypted with that region's key alias.
    secret_replica_region: str | None = None
    secret_replica_key_alias: str | None = None

    def __post_init__(self) -> None:
        if (self.secret_replica_region is None) != (self.secret_replica_key_alias is None):
            raise ValueError("secret_replica_region and secret_replica_key_alias go together")


class CacheStack(Stack):
    """Exposes ``host``, ``port``, ``auth_secret_name`` and ``client_security_group``, which the service wears."""

    def __init__(self, scope: Construct, id_: str, *, props: CacheProps, **stack_args: object) -> None:
        super().__init__(scope, id_, **stack_args)  # type: ignore[arg-type]
        data_key = imported_key(self, "DataKey", props.data_key_arn)
        self.port = props.port
        self.auth_secret_name = props.auth_secret_name
        self.auth_secret = self._auth_secret(props)
        # The service's tasks wear this group; the cache admits it and nothing else. Owning both groups here keeps
        # the rule in this template and spares the service stack a reference back into a stateful stack.
        self.client_security_group = ec2.SecurityGroup(
            self, "ClientSg", vpc=props.vpc, description="Cache clients: the service tasks", allow_all_outbound=False
        )
        self.security_group = ec2.SecurityGroup(
            self, "Sg", vpc=props.vpc, description="Valkey: service tasks only", allow_all_outbound=False
        )
        self.security_group.add_ingress_rule(self.client_security_group, ec2.Port.tcp(props.port), "service tasks")
        self.client_security_group.add_egress_rule(self.security_group, ec2.Port.tcp(props.port), "the cache")
        subnets = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            description=f"{props.replication_group_id}: isolated data tier",
            subnet_ids=props.vpc.select_subnets(subnet_group_name=DATA_TIER).subnet_ids,
        )
        slow_log = encrypted_log_group(
            self,
            "SlowLog",
            key=imported_key(self, "TelemetryKey", props.telemetry_key_arn),
            retention_days=props.log_retention_days,
        )
        highly_available = props.nodes >= 2
        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "ReplicationGroup",
            replication_group_id=props.replication_group_id,
            replication_group_description=f"{props.replication_group_id} read-through cache",
            engine=ENGINE,
            engine_version=ENGINE_VERSION,
            cache_node_type=props.node_type,
            num_cache_clusters=props.nodes,
            automatic_failover_enabled=highly_available,
            multi_az_enabled=highly_available,
            port=props.port,
            cache_subnet_group_name=subnets.ref,
            security_group_ids=[self.security_group.security_group_id],
            at_rest_encryption_enabled=True,
            kms_key_id=data_key.key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=self._auth_token(props).unsafe_unwrap(),  # a dynamic reference, resolved by CloudFormation
            auto_minor_version_upgrade=True,
            # Derived data with a 60-second TTL: a snapshot could only restore stale PHI (registry entry).
            snapshot_retention_limit=0,
            log_delivery_configurations=[
                elasticache.CfnReplicationGroup.LogDeliveryConfigurationRequestProperty(
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type="slow-log",
                    destination_details=elasticache.CfnReplicationGroup.DestinationDetailsProperty(
                        cloud_watch_logs_details=elasticache.CfnReplicationGroup.CloudWatchLogsDestinationDetailsProperty(
                            log_group=slow_log.log_group_name
                        )
                    ),
                )
            ],
        )
        # Created by name, so CloudFormation must not resolve the token before the secret exists.
        self.replication_group.node.add_dependency(self.auth_secret)
        self.host = self.replication_group.attr_primary_end_point_address

    def _auth_secret(self, props: CacheProps) -> secretsmanager.ISecret:
        if props.secret_replica_region is None:
            # The replica of the primary region's secret: same name, already encrypted with this region's key.
            return secretsmanager.Secret.from_secret_name_v2(self, "AuthToken", props.auth_secret_name)
        secret = secretsmanager.Secret(
            self,
            "AuthToken",
            secret_name=props.auth_secret_name,
            description="AUTH token of the records cache in both regions",
            encryption_key=imported_key(self, "SecretKey", props.data_key_arn),
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({}),
                generate_string_key=AUTH_TOKEN_FIELD,
                exclude_punctuation=True,
                password_length=AUTH_TOKEN_LENGTH,
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        resource = secret.node.default_child
        assert isinstance(resource, secretsmanager.CfnSecret)
        # As for the database secret: the replica region resolves its own key alias.
        resource.replica_regions = [
            secretsmanager.CfnSecret.ReplicaRegionProperty(
                region=props.secret_replica_region, kms_key_id=props.secret_replica_key_alias
            )
        ]
        return secret

    def _auth_token(self, props: CacheProps) -> SecretValue:
        # By name in both regions: the secondary reads its local replica, which an ARN of the primary would not.
        return SecretValue.secrets_manager(props.auth_secret_name, json_field=AUTH_TOKEN_FIELD)
