from __future__ import annotations

import pytest
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from aspects.tls import ListenerTls

judge = ListenerTls().judge
ACTION = [elbv2.CfnListener.ActionProperty(type="fixed-response", fixed_response_config={"statusCode": "404"})]
REDIRECT = [elbv2.CfnListener.ActionProperty(
    type="redirect", redirect_config=elbv2.CfnListener.RedirectConfigProperty(protocol="HTTPS", port="443",
                                                                               status_code="HTTP_301"))]


def _listener(stack, **props):
    return elbv2.CfnListener(stack, "L", load_balancer_arn="arn", **props)


@pytest.mark.parametrize("policy", ["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS-1-2-2017-01",
                                    "ELBSecurityPolicy-FS-1-2-Res-2020-10"])
def test_tls12_policies_comply(stack, policy):
    assert judge(_listener(stack, protocol="HTTPS", port=443, ssl_policy=policy, default_actions=ACTION)) is None


@pytest.mark.parametrize("policy", ["ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-1-2017-01"])
def test_policies_admitting_old_tls_are_findings(stack, policy):
    listener = _listener(stack, protocol="HTTPS", port=443, ssl_policy=policy, default_actions=ACTION)
    assert judge(listener) == f"SslPolicy {policy} admits TLS below 1.2"


def test_https_without_policy_is_a_finding(stack):
    assert "no SslPolicy" in judge(_listener(stack, protocol="HTTPS", port=443, default_actions=ACTION))


def test_plain_http_may_only_redirect_to_https(stack):
    assert judge(_listener(stack, protocol="HTTP", port=80, default_actions=REDIRECT)) is None


def test_plain_http_serving_content_is_a_finding(stack):
    assert judge(_listener(stack, protocol="HTTP", port=80, default_actions=ACTION)) == (
        "plain HTTP listener must only redirect to HTTPS"
    )


def test_token_policy_is_reported_not_passed(stack):
    import aws_cdk as cdk

    policy = cdk.CfnParameter(stack, "Policy")
    listener = _listener(stack, protocol="HTTPS", port=443, ssl_policy=policy.value_as_string, default_actions=ACTION)
    ListenerTls().visit(listener)
    assert any("cannot judge SslPolicy" in e.data for e in listener.node.metadata if e.type == "aws:cdk:error")


def test_forwarding_rule_on_a_plain_http_listener_is_a_finding(stack):
    http = _listener(stack, protocol="HTTP", port=80, default_actions=REDIRECT)
    rule = elbv2.CfnListenerRule(
        stack, "Forward", listener_arn=http.ref, priority=1,
        conditions=[elbv2.CfnListenerRule.RuleConditionProperty(field="path-pattern", values=["/*"])],
        actions=[elbv2.CfnListenerRule.ActionProperty(type="forward", target_group_arn="arn:tg")],
    )
    assert judge(rule) == "rule on a plain HTTP listener must only redirect to HTTPS"


def test_rule_on_an_https_listener_may_forward(stack):
    https = _listener(stack, protocol="HTTPS", port=443, ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                      default_actions=ACTION)
    rule = elbv2.CfnListenerRule(
        stack, "Forward", listener_arn=https.ref, priority=1,
        conditions=[elbv2.CfnListenerRule.RuleConditionProperty(field="path-pattern", values=["/*"])],
        actions=[elbv2.CfnListenerRule.ActionProperty(type="forward", target_group_arn="arn:tg")],
    )
    assert judge(rule) is None


def test_token_protocol_is_reported_not_passed(stack):
    import aws_cdk as cdk

    protocol = cdk.CfnParameter(stack, "Protocol")
    listener = _listener(stack, protocol=protocol.value_as_string, port=80, default_actions=ACTION)
    ListenerTls().visit(listener)
    assert any("cannot judge listener protocol" in e.data for e in listener.node.metadata if e.type == "aws:cdk:error")


def test_listener_without_protocol_is_a_finding(stack):
    assert judge(_listener(stack, port=8443, default_actions=ACTION)) == "listener protocol None is not one this rule knows"


def test_rule_whose_listener_is_elsewhere_is_reported_not_passed(stack):
    rule = elbv2.CfnListenerRule(
        stack, "Orphan", listener_arn="arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/y/z", priority=1,
        conditions=[elbv2.CfnListenerRule.RuleConditionProperty(field="path-pattern", values=["/*"])],
        actions=[elbv2.CfnListenerRule.ActionProperty(type="forward", target_group_arn="arn:tg")],
    )
    ListenerTls().visit(rule)
    assert any("not in the same stack" in e.data for e in rule.node.metadata if e.type == "aws:cdk:error")
