"""A WAFv2 web ACL (regional for a load balancer, CLOUDFRONT for the distribution): AWS managed rule groups,
a per-client rate limit, and logging to an encrypted log group. A regional ACL behind CloudFront also refuses
requests that did not come through CloudFront (``stacks.origin_verify``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

from aws_cdk import aws_kms as kms
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stacks.logging import encrypted_log_group
from stacks.origin_verify import OriginVerify
from stacks.waf_match import byte_match, uri_path

# Served to the task's own scraper (sidecar on localhost), never to the internet.
INTERNAL_PATH = "/metrics"
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesSQLiRuleSet",
)


@dataclass(frozen=True, kw_only=True)
class WafProps:
    name: str
    rate_limit_per_5_minutes: int
    telemetry_key: kms.IKey
    log_retention_days: int
    scope: Literal["REGIONAL", "CLOUDFRONT"] = "REGIONAL"  # CLOUDFRONT only exists in us-east-1
    origin_verify: OriginVerify | None = None  # set: only CloudFront's requests pass


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def _managed_rule(name: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=name
            )
        ),
        visibility_config=_visibility(name),
    )


def _path_starts_with(path: str) -> wafv2.CfnWebACL.StatementProperty:
    # Decode and lower-case first, so "/%6Detrics" or "/METRICS" cannot slip past.
    return byte_match(uri_path(), "STARTS_WITH", path, ("URL_DECODE", "LOWERCASE"))


def _block(name: str, statement: wafv2.CfnWebACL.StatementProperty, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=statement,
        visibility_config=_visibility(name),
    )


def _rate_rule(props: WafProps, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    if props.origin_verify is None:
        counted = wafv2.CfnWebACL.RateBasedStatementProperty(
            aggregate_key_type="IP", limit=props.rate_limit_per_5_minutes
        )
    else:
        # Behind CloudFront the source address is an edge server shared by many viewers; count the viewer that
        # CloudFront names in X-Forwarded-For instead. The edge ACL limits the real viewer address first.
        counted = wafv2.CfnWebACL.RateBasedStatementProperty(
            aggregate_key_type="FORWARDED_IP",
            limit=props.rate_limit_per_5_minutes,
            forwarded_ip_config=wafv2.CfnWebACL.ForwardedIPConfigurationProperty(
                header_name="X-Forwarded-For", fallback_behavior="MATCH"
            ),
        )
    return _block("RateLimitPerIp", wafv2.CfnWebACL.StatementProperty(rate_based_statement=counted), priority)


class WebAcl(Construct):
    """``resource_arn``: the regional resource to associate; a distribution names the ACL itself instead."""

    def __init__(self, scope: Construct, id_: str, *, props: WafProps, resource_arn: str | None = None) -> None:
        super().__init__(scope, id_)
        self.name = props.name  # what WAF's CloudWatch metrics name the ACL by
        # In evaluation order; the position is the priority.
        rules: list[Callable[[int], wafv2.CfnWebACL.RuleProperty]] = [
            partial(_rate_rule, props),
            partial(_block, "BlockInternalPath", _path_starts_with(INTERNAL_PATH)),
        ]
        if props.origin_verify is not None:
            rules.append(partial(_block, "RequireCloudFront", props.origin_verify.blocks()))
        rules += [partial(_managed_rule, name) for name in MANAGED_RULE_GROUPS]
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=props.name,
            scope=props.scope,
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(props.name),
            rules=[rule(priority) for priority, rule in enumerate(rules)],
        )
        if resource_arn is not None:
            wafv2.CfnWebACLAssociation(
                self, "Association", resource_arn=resource_arn, web_acl_arn=self.web_acl.attr_arn
            )
        # WAF only delivers to log groups whose name starts with this prefix.
        log_group_name = f"aws-waf-logs-{props.name}"
        log_group = encrypted_log_group(
            self,
            "Logs",
            key=props.telemetry_key,
            retention_days=props.log_retention_days,
            log_group_name=log_group_name,
        )
        # WAF wants the log group ARN without the ":*" suffix that the log group's Arn attribute carries.
        logging = wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[
                f"arn:aws:logs:{log_group.stack.region}:{log_group.stack.account}:log-group:{log_group_name}"
            ],
        )
        logging.node.add_dependency(log_group)
