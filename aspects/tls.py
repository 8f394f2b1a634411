"""Load balancer listeners: HTTPS with a TLS 1.2+ policy; plain HTTP may only redirect to HTTPS."""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from aspects.base import Unresolvable, ValidatingAspect, resolved

# ELB policy names that refuse TLS 1.0 and 1.1 (TLS13-1-2, TLS13-1-3, TLS-1-2, FS-1-2 families).
TLS12_POLICY = re.compile(r"^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)")
ENCRYPTED = ("HTTPS", "TLS")
PLAIN = ("HTTP", "TCP", "UDP", "TCP_UDP")


def _protocol(listener: elbv2.CfnListener) -> str | None:
    protocol = resolved(listener, listener.protocol)
    if protocol is not None and not isinstance(protocol, str):
        raise Unresolvable(f"listener protocol {protocol!r}")
    return protocol


def _only_redirects_to_https(actions: list[dict]) -> bool:
    # Resolved L1 structs use the jsii (camelCase) keys.
    return bool(actions) and all(
        a.get("type") == "redirect" and (a.get("redirectConfig") or {}).get("protocol") == "HTTPS" for a in actions
    )


def _listener_of(rule: elbv2.CfnListenerRule) -> elbv2.CfnListener | None:
    """The listener in the same stack that ``rule`` attaches to, found by its reference."""
    target = resolved(rule, rule.listener_arn)
    for node in cdk.Stack.of(rule).node.find_all():
        if isinstance(node, elbv2.CfnListener) and resolved(node, node.ref) == target:
            return node
    return None


class ListenerTls(ValidatingAspect):
    """Ensure HTTPS listeners negotiate TLS 1.2 or later and plain HTTP listeners and their rules only redirect."""

    rule_id = "Guard-Tls"
    resource_types = frozenset({"AWS::ElasticLoadBalancingV2::Listener", "AWS::ElasticLoadBalancingV2::ListenerRule"})

    def judge(self, node: cdk.CfnResource) -> str | None:
        if isinstance(node, elbv2.CfnListenerRule):
            return self._judge_rule(node)
        if not isinstance(node, elbv2.CfnListener):
            return None
        protocol = _protocol(node)
        if protocol in ENCRYPTED:
            policy = resolved(node, node.ssl_policy)
            if policy is None:
                return "HTTPS listener has no SslPolicy; the default admits TLS 1.0"
            if not isinstance(policy, str):
                raise Unresolvable(f"SslPolicy {policy!r}")
            return None if TLS12_POLICY.match(policy) else f"SslPolicy {policy} admits TLS below 1.2"
        if protocol == "HTTP" and not _only_redirects_to_https(resolved(node, node.default_actions) or []):
            return "plain HTTP listener must only redirect to HTTPS"
        if protocol is None or protocol not in PLAIN + ENCRYPTED:
            return f"listener protocol {protocol!r} is not one this rule knows"
        return None

    def _judge_rule(self, rule: elbv2.CfnListenerRule) -> str | None:
        listener = _listener_of(rule)
        if listener is None:
            raise Unresolvable("the listener of this rule (not in the same stack)")
        if _protocol(listener) == "HTTP" and not _only_redirects_to_https(resolved(rule, rule.actions) or []):
            return "rule on a plain HTTP listener must only redirect to HTTPS"
        return None
