"""CloudFront in front of the service: TLS 1.2+ at the edge, WAF, access logs, and caching only where it is safe.

The origin is the Route 53 failover name, so the distribution never changes on failover. The records API is never
cached (responses carry PHI and differ per caller); only ``CACHED_PATHS``, which are the same for every viewer,
are. Every behaviour forwards ``X-Request-Id`` so a request keeps its id from the edge to the service's logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.origin_verify import HEADER as ORIGIN_VERIFY_HEADER

REQUEST_ID_HEADER = "X-Request-Id"
API_PATH = "/api/*"  # the records API (service.api)
# The same for every viewer and free of PHI: the build's identity and the API description.
CACHED_PATHS = ("/version", "/openapi.json")
# CloudFront caches these error responses for 10 s by default, whatever the cache policy says; an API error meant
# for one caller must never be served to another.
UNCACHED_ERRORS = (400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504)


@dataclass(frozen=True, kw_only=True)
class CdnProps:
    zone: route53.IHostedZone
    domain_name: str
    origin_domain_name: str  # the failover name
    web_acl_arn: str
    log_bucket: s3.IBucket
    allowed_countries: Sequence[str]
    static_ttl: Duration
    origin_header_value: str  # a dynamic reference to the active origin secret


class Cdn(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: CdnProps) -> None:
        super().__init__(scope, id_)
        # CloudFront only takes certificates from us-east-1; the edge stack lives there.
        self.certificate = acm.Certificate(
            self,
            "Certificate",
            domain_name=props.domain_name,
            validation=acm.CertificateValidation.from_dns(props.zone),
        )
        origin = origins.HttpOrigin(
            props.origin_domain_name,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            # Above the ALB's 60 s idle timeout is pointless; the service answers in well under 30 s.
            read_timeout=Duration.seconds(30),
            keepalive_timeout=Duration.seconds(5),
            custom_headers={ORIGIN_VERIFY_HEADER: props.origin_header_value},
        )
        self.cached_paths_policy = cloudfront.CachePolicy(
            self,
            "StaticCache",
            comment="Viewer-independent responses: no cookies, headers or query strings in the key",
            default_ttl=props.static_ttl,
            max_ttl=props.static_ttl,
            min_ttl=Duration.seconds(0),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        self.request_id_policy = cloudfront.OriginRequestPolicy(
            self,
            "RequestId",
            comment="Forward the caller's request id to the origin",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(REQUEST_ID_HEADER),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.none(),
        )
        # A cached response would hand the first caller's echoed request id to everyone; drop it there.
        self.cached_headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "CachedHeaders",
            comment="Security headers; no per-request headers on shared responses",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True
                ),
            ),
            remove_headers=[REQUEST_ID_HEADER],
        )
        uncached = cloudfront.BehaviorOptions(
            origin=origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # Everything the viewer sent (request id included) except Host, which must name the origin for TLS.
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
        )
        cached = cloudfront.BehaviorOptions(
            origin=origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=self.cached_paths_policy,
            origin_request_policy=self.request_id_policy,
            response_headers_policy=self.cached_headers_policy,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{props.domain_name} via {props.origin_domain_name}",
            domain_names=[props.domain_name],
            certificate=self.certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            web_acl_id=props.web_acl_arn,
            enable_logging=True,
            log_bucket=props.log_bucket,
            log_file_prefix="cloudfront/",
            geo_restriction=cloudfront.GeoRestriction.allowlist(*props.allowed_countries),
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            error_responses=[
                cloudfront.ErrorResponse(http_status=status, ttl=Duration.seconds(0)) for status in UNCACHED_ERRORS
            ],
            default_behavior=uncached,
            # Stated for the API even though the default behaves the same: the API must stay uncached whatever
            # the default becomes.
            additional_behaviors={API_PATH: uncached, **{path: cached for path in CACHED_PATHS}},
        )
        target = route53.RecordTarget.from_alias(route53_targets.CloudFrontTarget(self.distribution))
        route53.ARecord(self, "Alias", zone=props.zone, record_name=props.domain_name, target=target)
        route53.AaaaRecord(self, "AliasIpv6", zone=props.zone, record_name=props.domain_name, target=target)
