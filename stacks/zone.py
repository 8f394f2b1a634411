"""The environment's public hosted zone, created here unless configuration names an existing one.

It deploys before the regional stacks: their load balancer certificates validate through it, and the edge stack
adds the failover and CDN records to it afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, Fn, Stack
from aws_cdk import aws_route53 as route53
from constructs import Construct
from typing_extensions import Unpack

from stacks.stack_args import StackArgs


@dataclass(frozen=True, kw_only=True)
class ZoneRef:
    """What consumers are given: they import the zone in their own scope (a cross-region reference is weak)."""

    zone_id: str
    zone_name: str

    def imported(self, scope: Construct, id_: str = "Zone") -> route53.IHostedZone:
        return route53.HostedZone.from_hosted_zone_attributes(
            scope, id_, hosted_zone_id=self.zone_id, zone_name=self.zone_name
        )


class ZoneStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, zone_name: str, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        self.zone = route53.PublicHostedZone(
            self, "Zone", zone_name=zone_name, comment=f"{zone_name}: CDN, regional failover and certificates"
        )
        self.ref = ZoneRef(zone_id=self.zone.hosted_zone_id, zone_name=zone_name)
        # Certificates validate only once the parent zone delegates to these servers (docs/architecture.md).
        CfnOutput(
            self,
            "NameServers",
            value=Fn.join(",", self.zone.hosted_zone_name_servers or []),
            description=f"Delegate {zone_name} to these in its parent zone before deploying the other stacks",
        )
