"""Routes from this region's private tiers to the other region's private tiers through a VPC peering connection.

The primary region's routes live in a stack of their own (``PeerRoutesStack``): the peering connection is made in
the secondary region from the primary VPC's id, and routes in the primary's network stack would need the
connection's id back, a cycle CloudFormation cannot deploy (platform-facts §2.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct
from typing_extensions import Unpack

from stacks.network import APP_TIER, DATA_TIER
from stacks.stack_args import StackArgs

PRIVATE_TIERS = (APP_TIER, DATA_TIER)


@dataclass(frozen=True, kw_only=True)
class PeerRoutesProps:
    vpc: ec2.IVpc
    # The peer's app and data subnets: narrower than its VPC CIDR, so nothing here reaches its public tier.
    peer_cidrs: Sequence[str]
    peering_connection_id: str

    def __post_init__(self) -> None:
        if not self.peer_cidrs:
            raise ValueError("peer routes need the peer's subnet CIDRs")


class PeerRoutes(Construct):
    """One route per (private route table, peer subnet); public subnets get none."""

    def __init__(self, scope: Construct, id_: str, *, props: PeerRoutesProps) -> None:
        super().__init__(scope, id_)
        self.routes: list[ec2.CfnRoute] = []
        for tier in PRIVATE_TIERS:
            for index, subnet in enumerate(props.vpc.select_subnets(subnet_group_name=tier).subnets):
                for n, cidr in enumerate(props.peer_cidrs):
                    self.routes.append(
                        ec2.CfnRoute(
                            self,
                            f"{tier}{index}To{n}",
                            route_table_id=subnet.route_table.route_table_id,
                            destination_cidr_block=cidr,
                            vpc_peering_connection_id=props.peering_connection_id,
                        )
                    )


class PeerRoutesStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, props: PeerRoutesProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        self.peer_routes = PeerRoutes(self, "Routes", props=props)
