"""The load balancer's certificate of one region, validated through the environment's zone.

It has a stack of its own because the zone id is a cross-region reference for the secondary region: kept out of
the service stack, the secondary's service can still be deployed (scaled out, rolled back) while us-east-1 is down.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_certificatemanager as acm
from constructs import Construct
from typing_extensions import Unpack

from stacks.failover import origin_name, regional_name
from stacks.stack_args import StackArgs
from stacks.zone import ZoneRef


@dataclass(frozen=True, kw_only=True)
class CertificateProps:
    domain_name: str
    zone: ZoneRef


class CertificateStack(Stack):
    """Covers the failover name (what CloudFront asks for) and the region's own name (what health checks ask for)."""

    def __init__(self, scope: Construct, id_: str, *, props: CertificateProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        self.certificate = acm.Certificate(
            self,
            "Certificate",
            domain_name=origin_name(props.domain_name),
            subject_alternative_names=[regional_name(self.region, props.domain_name)],
            validation=acm.CertificateValidation.from_dns(props.zone.imported(self)),
        )
