"""Load balancer listeners: HTTPS with a TLS 1.2+ policy; plain HTTP may only redirect to HTTPS."""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from aspects.base import Unresolvable, ValidatingAspect, resolved

# ELB policy names that refuse TLS 1.0 and 1.1 (TLS13-1-2, TLS13-1-3, TLS-1-2, FS-1-2 families).
TLS12_POLICY = re.compile(r"^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)")


class ListenerTls(ValidatingAspect):
    """Ensure HTTPS listeners negotiate TLS 1.2 or later and HTTP listeners only redirect."""

    rule_id = "Guard-Tls"

    def judge(self, node: cdk.CfnResource) -> str | None:
        if not isinstance(node, elbv2.CfnListener):
            return None
        protocol = resolved(node, node.protocol)
        if protocol in ("HTTPS", "TLS"):
            policy = resolved(node, node.ssl_policy)
            if policy is None:
                return "HTTPS listener has no SslPolicy; the default admits TLS 1.0"
            if not isinstance(policy, str):
                raise Unresolvable(f"SslPolicy {policy!r}")
            return None if TLS12_POLICY.match(policy) else f"SslPolicy {policy} admits TLS below 1.2"
        if protocol == "HTTP":
            actions = resolved(node, node.default_actions) or []
            # Resolved L1 structs use the jsii (camelCase) keys.
            redirects = [a for a in actions if a.get("type") == "redirect"]
            to_https = all((a.get("redirectConfig") or {}).get("protocol") == "HTTPS" for a in redirects)
            if not redirects or len(redirects) != len(actions) or not to_https:
                return "plain HTTP listener must only redirect to HTTPS"
        return None
