from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from stacks.config import AppConfig

ENVS = ("dev", "staging", "prod")


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_vpc_uses_configured_cidr_and_three_tiers_per_az(synthesized, config: AppConfig, env, role):
    region = config.region(config.environments[env], role)
    template = synthesized.template(env, role, "network")
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": str(region.cidr)})
    template.resource_count_is("AWS::EC2::Subnet", 3 * len(region.azs))
    zones = {s["Properties"]["AvailabilityZone"] for s in template.find_resources("AWS::EC2::Subnet").values()}
    assert zones == set(region.azs)


@pytest.mark.parametrize("env, expected", [("dev", 1), ("staging", 1), ("prod", 3)])
def test_nat_gateways_one_per_az_in_prod_one_elsewhere(synthesized, env, expected):
    synthesized.template(env, "primary", "network").resource_count_is("AWS::EC2::NatGateway", expected)


def test_public_subnets_do_not_assign_public_ips(synthesized):
    subnets = synthesized.template("prod", "primary", "network").find_resources("AWS::EC2::Subnet")
    assert all(s["Properties"].get("MapPublicIpOnLaunch") is False for s in subnets.values()
               if s["Properties"].get("MapPublicIpOnLaunch") is not None)
    assert all(s["Properties"].get("MapPublicIpOnLaunch") in (False, None) for s in subnets.values())


def test_flow_logs_go_to_a_kms_encrypted_log_group(synthesized):
    template = synthesized.template("dev", "primary", "network")
    template.has_resource_properties(
        "AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"}
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"KmsKeyId": Match.any_value(), "RetentionInDays": 90}
    )


def test_flow_log_role_has_no_inline_policy(synthesized):
    template = synthesized.template("dev", "primary", "network")
    template.resource_count_is("AWS::IAM::Policy", 0)
    template.has_resource_properties("AWS::IAM::ManagedPolicy", {"Description": "Delivers VPC flow logs to their log group"})


def test_private_endpoints_for_s3_ecr_logs_and_secrets(synthesized):
    template = synthesized.template("dev", "secondary", "network")
    template.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"})
    names = [
        e["Properties"]["ServiceName"]
        for e in template.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}).values()
    ]
    assert sorted(names) == sorted(
        f"com.amazonaws.us-east-2.{s}" for s in ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
    )


def test_endpoint_security_group_admits_only_the_vpc_cidr_on_443(synthesized, config: AppConfig):
    cidr = str(config.region(config.environments["dev"], "primary").cidr)
    synthesized.template("dev", "primary", "network").has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupIngress": [Match.object_like({"CidrIp": cidr, "FromPort": 443, "ToPort": 443})]},
    )


def test_default_security_group_is_closed(synthesized):
    synthesized.template("dev", "primary", "network").resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_log_groups_refuse_a_retention_cloudwatch_rejects():
    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms

    from stacks.logging import encrypted_log_group

    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValueError, match="100 days is not one CloudWatch accepts"):
        encrypted_log_group(stack, "L", key=kms.Key(stack, "K"), retention_days=100)
