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
