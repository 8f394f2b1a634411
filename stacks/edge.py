"""The environment's global entry, in us-east-1: Route 53 failover between the regions and CloudFront in front.

It deploys last: it points at both regions' load balancers (weak references, resolved at deploy time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_sns as sns
from constructs import Construct
from typing_extensions import Unpack

from policies.slo import ServiceLevelObjectives
from stacks.access_logs import AccessLogBuckets, AccessLogProps
from stacks.app_secrets import GeneratedSecret
from stacks.cdn import Cdn, CdnProps
from stacks.failover import FailoverProps, FailoverRouting, HealthCheckSettings, RegionalOrigin
from stacks.keys import imported_key
from stacks.stack_args import StackArgs
from stacks.waf import WafProps, WebAcl
from stacks.zone import ZoneRef


@dataclass(frozen=True, kw_only=True)
class EdgeProps:
    name_prefix: str
    domain_name: str
    zone: ZoneRef
    origins: Sequence[RegionalOrigin]
    health: HealthCheckSettings
    telemetry_key_arn: str  # this region's (us-east-1) telemetry key
    log_retention_days: int
    waf_rate_limit_per_5_minutes: int
    allowed_countries: Sequence[str]
    static_ttl_seconds: int
    origin_secret: GeneratedSecret  # the header value CloudFront sends; the load balancers refuse others
    alerts_topic_arn: str  # us-east-1's alerts topic
    slo: ServiceLevelObjectives


class EdgeStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, props: EdgeProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        telemetry_key = imported_key(self, "TelemetryKey", props.telemetry_key_arn)
        zone = props.zone.imported(self)
        self.topic = sns.Topic.from_topic_arn(self, "Alerts", props.alerts_topic_arn)
        self.failover = FailoverRouting(
            self,
            "Failover",
            props=FailoverProps(
                zone=zone,
                domain_name=props.domain_name,
                origins=props.origins,
                health=props.health,
                alarm_topic=self.topic,
                slo=props.slo,
            ),
        )
        self.waf = WebAcl(
            self,
            "Waf",
            props=WafProps(
                name=f"{props.name_prefix}-edge",
                rate_limit_per_5_minutes=props.waf_rate_limit_per_5_minutes,
                telemetry_key=telemetry_key,
                log_retention_days=props.log_retention_days,
                scope="CLOUDFRONT",
            ),
        )
        logs = AccessLogBuckets(
            self,
            "AccessLogs",
            props=AccessLogProps(retention_days=props.log_retention_days, source="Distribution", acl_delivery=True),
        )
        self.cdn = Cdn(
            self,
            "Cdn",
            props=CdnProps(
                zone=zone,
                domain_name=props.domain_name,
                origin_domain_name=self.failover.origin_name,
                web_acl_arn=self.waf.web_acl.attr_arn,
                log_bucket=logs.delivery,
                allowed_countries=props.allowed_countries,
                static_ttl=Duration.seconds(props.static_ttl_seconds),
                origin_header_value=props.origin_secret.value().unsafe_unwrap(),
            ),
        )
