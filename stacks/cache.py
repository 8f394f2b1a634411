"""The regional read-through cache: a Valkey replication group in the data tier, reachable only from the service.

Its AUTH token is an application secret (``stacks.app_secrets``) that both regions' caches and services read by
name, locally.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from constructs import Construct
from typing_extensions import Unpack

from stacks.app_secrets import GeneratedSecret
from stacks.keys import imported_key
from stacks.logging import encrypted_log_group
from stacks.network import DATA_TIER
from stacks.stack_args import StackArgs

ENGINE = "valkey"
ENGINE_VERSION = "8.0"


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
    auth_token: GeneratedSecret


class CacheStack(Stack):
    """Exposes ``host``, ``port``, ``auth_secret_name`` and ``client_security_group``, which the service wears."""

    def __init__(self, scope: Construct, id_: str, *, props: CacheProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        self.port = props.port
        self.replication_group_id = props.replication_group_id
        self.auth_secret_name = props.auth_token.name
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
            kms_key_id=imported_key(self, "DataKey", props.data_key_arn).key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=props.auth_token.value().unsafe_unwrap(),  # a dynamic reference, resolved by CloudFormation
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
        self.host = self.replication_group.attr_primary_end_point_address
