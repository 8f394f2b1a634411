"""No ingress from the internet, except TCP 80/443 to an internet-facing load balancer.

"The internet" is any source range that is not private address space, so splitting 0.0.0.0/0 into halves
does not get around the rule.
"""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from aspects.base import Unresolvable, ValidatingAspect, resolved

PUBLIC_WEB_PORTS = frozenset({80, 443})


def _belongs_to_load_balancer(group: ec2.CfnSecurityGroup) -> bool:
    """CDK creates a load balancer's own group as <Alb>/SecurityGroup/Resource."""
    wrapper = group.node.scope
    return wrapper is not None and isinstance(wrapper.node.scope, elbv2.ApplicationLoadBalancer)


def _is_internet(source: Any) -> bool:
    if not isinstance(source, str):
        raise Unresolvable(f"ingress source {source!r}")
    try:
        network = ip_network(source, strict=False)
    except ValueError:
        raise Unresolvable(f"ingress source {source!r}") from None
    return not network.is_private


def _world_rule_problem(rule: dict[str, Any], load_balancer: bool) -> str | None:
    # Resolved L1 structs use the jsii (camelCase) keys.
    source = rule.get("cidrIp") or rule.get("cidrIpv6")
    if source is None or not _is_internet(source):
        return None
    protocol, from_port, to_port = rule.get("ipProtocol"), rule.get("fromPort"), rule.get("toPort")
    if load_balancer and protocol in ("tcp", "6") and from_port == to_port and from_port in PUBLIC_WEB_PORTS:
        return None
    ports = "all ports" if protocol in ("-1", -1) else (f"port {from_port}-{to_port}" if from_port != to_port
                                                       else f"port {from_port}")
    return f"admits {source} on {ports}; only a load balancer may, and only on TCP 80/443"


class NoPublicIngress(ValidatingAspect):
    """Ensure security groups admit the internet only to a load balancer on TCP 80/443."""

    rule_id = "Guard-Ingress"
    resource_types = frozenset({"AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"})

    def judge(self, node: cdk.CfnResource) -> str | None:
        if isinstance(node, ec2.CfnSecurityGroup):
            rules = resolved(node, node.security_group_ingress) or []
            load_balancer = _belongs_to_load_balancer(node)
            problems = [p for rule in rules if (p := _world_rule_problem(rule, load_balancer))]
            return "; ".join(problems) or None
        if isinstance(node, ec2.CfnSecurityGroupIngress):
            rule = {
                "cidrIp": resolved(node, node.cidr_ip),
                "cidrIpv6": resolved(node, node.cidr_ipv6),
                "ipProtocol": resolved(node, node.ip_protocol),
                "fromPort": resolved(node, node.from_port),
                "toPort": resolved(node, node.to_port),
            }
            return _world_rule_problem(rule, load_balancer=False)
        return None
