from __future__ import annotations

import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from aspects.ingress import NoPublicIngress

judge = NoPublicIngress().judge


@pytest.fixture
def vpc(stack):
    return ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)


def test_world_ingress_on_a_plain_group_is_a_finding(stack, vpc):
    group = ec2.SecurityGroup(stack, "Sg", vpc=vpc)
    group.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(22))
    assert judge(group.node.default_child) == "admits 0.0.0.0/0 on port 22; only a load balancer may, and only on TCP 80/443"


def test_ipv6_world_ingress_is_a_finding(stack, vpc):
    group = ec2.SecurityGroup(stack, "Sg", vpc=vpc)
    group.add_ingress_rule(ec2.Peer.any_ipv6(), ec2.Port.tcp(443))
    assert "::/0" in judge(group.node.default_child)


def test_private_cidr_ingress_complies(stack, vpc):
    group = ec2.SecurityGroup(stack, "Sg", vpc=vpc)
    group.add_ingress_rule(ec2.Peer.ipv4("10.0.0.0/16"), ec2.Port.tcp(5432))
    assert judge(group.node.default_child) is None


def test_load_balancer_may_take_world_traffic_on_80_and_443_only(stack, vpc):
    alb = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc, internet_facing=True)
    group = alb.connections.security_groups[0]
    group.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443))
    assert judge(group.node.default_child) is None
    group.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(8080))
    assert judge(group.node.default_child) == (
        "admits 0.0.0.0/0 on port 8080; only a load balancer may, and only on TCP 80/443"
    )


def test_standalone_world_ingress_is_a_finding(stack):
    rule = ec2.CfnSecurityGroupIngress(stack, "R", ip_protocol="tcp", from_port=0, to_port=65535,
                                       cidr_ip="0.0.0.0/0", group_id="sg-1")
    assert judge(rule) == "admits 0.0.0.0/0 on port 0-65535; only a load balancer may, and only on TCP 80/443"


def test_token_source_is_reported_not_passed(stack, vpc):
    group = ec2.SecurityGroup(stack, "Sg", vpc=vpc)
    group.add_ingress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(443))
    NoPublicIngress().visit(group.node.default_child)
    errors = [e.data for e in group.node.default_child.node.metadata if e.type == "aws:cdk:error"]
    assert errors and "cannot judge ingress source" in errors[0]


def test_all_protocols_on_the_load_balancer_is_a_finding(stack, vpc):
    alb = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc, internet_facing=True)
    group = alb.connections.security_groups[0]
    group.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.all_traffic())
    assert judge(group.node.default_child) == (
        "admits 0.0.0.0/0 on all ports; only a load balancer may, and only on TCP 80/443"
    )


def test_splitting_the_internet_into_halves_is_still_the_internet(stack, vpc):
    group = ec2.SecurityGroup(stack, "Sg", vpc=vpc)
    group.add_ingress_rule(ec2.Peer.ipv4("0.0.0.0/1"), ec2.Port.tcp(22))
    group.add_ingress_rule(ec2.Peer.ipv4("128.0.0.0/1"), ec2.Port.tcp(22))
    assert judge(group.node.default_child).count("on port 22") == 2


def test_private_peer_ranges_are_not_the_internet(stack, vpc):
    group = ec2.SecurityGroup(stack, "Sg", vpc=vpc)
    group.add_ingress_rule(ec2.Peer.ipv4("10.21.0.0/16"), ec2.Port.tcp(5433))
    group.add_ingress_rule(ec2.Peer.ipv4("172.16.0.0/12"), ec2.Port.tcp(5433))
    assert judge(group.node.default_child) is None


def test_malformed_source_is_reported_not_passed(stack):
    rule = ec2.CfnSecurityGroupIngress(stack, "R", ip_protocol="tcp", from_port=22, to_port=22,
                                       cidr_ip="everyone", group_id="sg-1")
    NoPublicIngress().visit(rule)
    assert any("cannot judge ingress source 'everyone'" in e.data for e in rule.node.metadata if e.type == "aws:cdk:error")
