"""No ingress from the whole internet, except HTTP(S) to an internet-facing load balancer."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from aspects.base import Unresolvable, ValidatingAspect, resolved

WORLD = frozenset({"0.0.0.0/0", "::/0"})
PUBLIC_WEB_PORTS = frozenset({80, 443})


def _belongs_to_load_balancer(group: ec2.CfnSecurityGroup) -> bool:
    """CDK creates a load balancer's own group as <Alb>/SecurityGroup/Resource."""
    wrapper = group.node.scope
    return wrapper is not None and isinstance(wrapper.node.scope, elbv2.ApplicationLoadBalancer)


def _world_rule_problem(rule: dict[str, Any], load_balancer: bool) -> str | None:
    # Resolved L1 structs use the jsii (camelCase) keys.
    source = rule.get("cidrIp") or rule.get("cidrIpv6")
    if not isinstance(source, str):
        return None if source is None else _unresolvable(source)
    if source not in WORLD:
        return None
    from_port, to_port = rule.get("fromPort"), rule.get("toPort")
    if load_balancer and from_port == to_port and from_port in PUBLIC_WEB_PORTS:
        return None
    ports = f"{from_port}-{to_port}" if from_port != to_port else f"{from_port}"
    return f"admits {source} on port {ports}; only a load balancer may, and only on 80/443"


def _unresolvable(value: Any) -> str:
    raise Unresolvable(f"ingress source {value!r}")


class NoPublicIngress(ValidatingAspect):
    """Ensure security groups admit the internet only to a load balancer on 80/443."""

    rule_id = "Guard-Ingress"

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
                "fromPort": resolved(node, node.from_port),
                "toPort": resolved(node, node.to_port),
            }
            return _world_rule_problem(rule, load_balancer=False)
        return None
