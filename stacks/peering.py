"""The inter-region VPC peering connection, requested from the secondary region, and the secondary's routes.

Both VPCs are in the same account, so the connection is accepted without a peering role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct
from typing_extensions import Unpack

from stacks.peer_routes import PeerRoutes, PeerRoutesProps
from stacks.stack_args import StackArgs


@dataclass(frozen=True, kw_only=True)
class PeeringProps:
    vpc: ec2.IVpc
    peer_vpc_id: str  # the primary VPC: a cross-region (weak) reference to its network stack
    peer_region: str
    peer_cidrs: Sequence[str]


class PeeringStack(Stack):
    """Exposes ``connection_id`` for the primary region's ``PeerRoutesStack``."""

    def __init__(self, scope: Construct, id_: str, *, props: PeeringProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        self.connection = ec2.CfnVPCPeeringConnection(
            self,
            "Connection",
            vpc_id=props.vpc.vpc_id,
            peer_vpc_id=props.peer_vpc_id,
            peer_region=props.peer_region,
            peer_owner_id=self.account,
        )
        self.connection_id = self.connection.ref
        PeerRoutes(
            self,
            "Routes",
            props=PeerRoutesProps(vpc=props.vpc, peer_cidrs=props.peer_cidrs, peering_connection_id=self.connection_id),
        )
