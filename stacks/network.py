"""The regional network: three subnet tiers over the configured AZs, flow logs and private endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct
from typing_extensions import Unpack

from stacks.keys import imported_key
from stacks.logging import encrypted_log_group
from stacks.roles import ManagedRole
from stacks.stack_args import StackArgs

PUBLIC_TIER = "public"
APP_TIER = "app"
DATA_TIER = "data"


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    cidr: str
    azs: Sequence[str]
    nat_gateways: int
    log_retention_days: int
    telemetry_key_arn: str


class NetworkStack(Stack):
    """Exposes ``vpc`` plus the literal CIDRs of each tier, which rules need in resolvable form."""

    def __init__(self, scope: Construct, id_: str, *, props: NetworkProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        self._configured_azs = list(props.azs)
        telemetry_key = imported_key(self, "TelemetryKey", props.telemetry_key_arn)
        flow_log_group = encrypted_log_group(
            self, "FlowLogs", key=telemetry_key, retention_days=props.log_retention_days
        )
        flow_log_role = ManagedRole(
            self,
            "FlowLogRole",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description="Delivers VPC flow logs to their log group",
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[flow_log_group.log_group_arn],
                )
            ],
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(props.cidr),
            availability_zones=list(props.azs),
            nat_gateways=props.nat_gateways,
            restrict_default_security_group=True,
            subnet_configuration=[
                # Nothing launched here needs a public IP: the ALB and NAT gateways bring their own.
                ec2.SubnetConfiguration(
                    name=PUBLIC_TIER, subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24, map_public_ip_on_launch=False
                ),
                ec2.SubnetConfiguration(name=APP_TIER, subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
                ec2.SubnetConfiguration(name=DATA_TIER, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
            flow_logs={
                "All": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group, flow_log_role.immutable),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
            gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)},
        )
        self.app_cidrs = [s.ipv4_cidr_block for s in self.vpc.select_subnets(subnet_group_name=APP_TIER).subnets]
        self.data_cidrs = [s.ipv4_cidr_block for s in self.vpc.select_subnets(subnet_group_name=DATA_TIER).subnets]
        # What the other region may route to over peering: everything but the public tier.
        self.private_cidrs = self.app_cidrs + self.data_cidrs
        self._add_interface_endpoints(props.cidr)

    @property
    def availability_zones(self) -> list[str]:
        """The configured AZs. Interface endpoints ask the stack for its AZs; without this the CLI would try
        an AWS context lookup, which cannot work offline."""
        return self._configured_azs

    def _add_interface_endpoints(self, cidr: str) -> None:
        # A literal CIDR, not vpc.vpc_cidr_block: rules cannot judge a token and report it as a violation.
        endpoint_sg = ec2.SecurityGroup(
            self, "EndpointSg", vpc=self.vpc, description="Interface endpoints: HTTPS from inside the VPC",
            allow_all_outbound=False,
        )
        endpoint_sg.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS from the VPC")
        services = {
            "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
            "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
            "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
            "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        }
        for name, service in services.items():
            self.vpc.add_interface_endpoint(
                name,
                service=service,
                security_groups=[endpoint_sg],
                open=False,
                subnets=ec2.SubnetSelection(subnet_group_name=APP_TIER),
            )
