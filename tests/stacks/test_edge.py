"""The global entry: Route 53 failover between the regions' load balancers, and CloudFront in front of it."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from stacks.build import add_stages, new_app
from stacks.config import CDK_JSON, load_config, parse_config
from stacks.failover import FailoverProps, HealthCheckSettings, RegionalOrigin

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed cache policy "CachingDisabled"


def _of_type(template, kind: str) -> dict[str, dict]:
    return {k: r["Properties"] for k, r in template.find_resources(kind).items()}


def _config(template) -> dict:
    (distribution,) = _of_type(template, "AWS::CloudFront::Distribution").values()
    return distribution["DistributionConfig"]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_https_health_check_on_each_region_with_settings_from_config(synthesized, env):
    dns = synthesized.stages[env].env_config.dns
    # Every environment checks every 10 s: at 30 s, detection alone broke the RTO budget (gates.resilience).
    interval = dns.health_check_interval_seconds
    assert interval == 10
    checks = _of_type(synthesized.stage_template(env, "edge"), "AWS::Route53::HealthCheck")
    domain = synthesized.stages[env].env_config.domain_name
    configs = sorted((c["HealthCheckConfig"] for c in checks.values()), key=lambda c: c["FullyQualifiedDomainName"])
    assert [c["FullyQualifiedDomainName"] for c in configs] == [f"us-east-1.{domain}", f"us-east-2.{domain}"]
    for config in configs:
        assert config["Type"] == "HTTPS" and config["Port"] == 443 and config["EnableSNI"] is True
        assert config["ResourcePath"] == "/health"
        assert config["RequestInterval"] == interval
        assert config["FailureThreshold"] == dns.health_check_failure_threshold == 3


def test_failover_records_pair_primary_and_secondary_with_health_checks_and_target_health(synthesized):
    template = synthesized.stage_template("prod", "edge")
    checks = _of_type(template, "AWS::Route53::HealthCheck")
    by_fqdn = {c["HealthCheckConfig"]["FullyQualifiedDomainName"]: k for k, c in checks.items()}
    records = [r for r in _of_type(template, "AWS::Route53::RecordSet").values() if "Failover" in r]
    assert {(r["Name"], r["Failover"], r["SetIdentifier"]) for r in records} == {
        ("origin.records.example.com.", "PRIMARY", "us-east-1"),
        ("origin.records.example.com.", "SECONDARY", "us-east-2"),
    }
    for record in records:
        region = record["SetIdentifier"]
        assert record["HealthCheckId"] == {"Ref": by_fqdn[f"{region}.records.example.com"]}
        assert record["AliasTarget"]["EvaluateTargetHealth"] is True
        # Each alias points at that region's load balancer (a weak reference to its service stack).
        alb = record["AliasTarget"]["HostedZoneId"]["Fn::GetStackOutput"]
        short = {"us-east-1": "use1", "us-east-2": "use2"}[region]
        assert (alb["StackName"], alb["Region"]) == (f"records-prod-service-{short}", region)


def test_each_health_check_has_an_alarm_that_notifies_the_encrypted_topic(synthesized):
    template = synthesized.stage_template("staging", "edge")
    checks = set(_of_type(template, "AWS::Route53::HealthCheck"))
    alarms = _of_type(template, "AWS::CloudWatch::Alarm").values()
    topic = "arn:aws:sns:us-east-1:222222222222:records-staging-use1-alerts"  # Route 53 metrics live in us-east-1
    watched = set()
    for alarm in alarms:
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
            "AWS/Route53", "HealthCheckStatus", "Minimum")
        assert alarm["ComparisonOperator"] == "LessThanThreshold" and alarm["Threshold"] == 1
        assert alarm["TreatMissingData"] == "breaching"
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic]
        (dimension,) = alarm["Dimensions"]
        watched.add(dimension["Value"]["Ref"])
    assert watched == checks
    assert {a["AlarmName"] for a in alarms} == {"records-staging-use1-route53-health",
                                                "records-staging-use2-route53-health"}


def test_cloudfront_origin_is_the_failover_name_over_tls12(synthesized):
    config = _config(synthesized.stage_template("dev", "edge"))
    (origin,) = config["Origins"]
    assert origin["DomainName"] == "origin.dev.records.example.com"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]


def test_viewers_get_tls12_with_an_acm_certificate_for_the_domain(synthesized):
    template = synthesized.stage_template("prod", "edge")
    config = _config(template)
    assert config["Aliases"] == ["records.example.com"]
    certificate = config["ViewerCertificate"]
    assert certificate["MinimumProtocolVersion"] == "TLSv1.2_2021" and certificate["SslSupportMethod"] == "sni-only"
    (cert_id, cert), = _of_type(template, "AWS::CertificateManager::Certificate").items()
    assert certificate["AcmCertificateArn"] == {"Ref": cert_id}
    assert cert["DomainName"] == "records.example.com" and cert["ValidationMethod"] == "DNS"
    assert synthesized.stages["prod"].edge.region == "us-east-1"  # CloudFront takes certificates from here only
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert {b["ViewerProtocolPolicy"] for b in behaviours} == {"https-only"}


def test_the_records_api_is_never_cached_and_keeps_every_viewer_header(synthesized):
    config = _config(synthesized.stage_template("prod", "edge"))
    (api,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    for behaviour in (api, config["DefaultCacheBehavior"]):
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHost
        assert "POST" in behaviour["AllowedMethods"]


def test_only_viewer_independent_paths_are_cached_and_they_forward_the_request_id(synthesized):
    template = synthesized.stage_template("prod", "edge")
    config = _config(template)
    cached = [b for b in config["CacheBehaviors"] if b["CachePolicyId"] != CACHING_DISABLED]
    assert sorted(b["PathPattern"] for b in cached) == ["/openapi.json", "/version"]
    (policy_id, policy), = _of_type(template, "AWS::CloudFront::CachePolicy").items()
    key = policy["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["CookiesConfig"]["CookieBehavior"] == "none"
    assert key["QueryStringsConfig"]["QueryStringBehavior"] == "none"
    assert policy["CachePolicyConfig"]["DefaultTTL"] == 300
    (request_id_policy,) = _of_type(template, "AWS::CloudFront::OriginRequestPolicy")
    for behaviour in cached:
        assert behaviour["CachePolicyId"] == {"Ref": policy_id}
        assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
        assert behaviour["OriginRequestPolicyId"] == {"Ref": request_id_policy}
    template.has_resource_properties(
        "AWS::CloudFront::OriginRequestPolicy",
        {"OriginRequestPolicyConfig": Match.object_like(
            {"HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": ["X-Request-Id"]}})},
    )


def test_distribution_has_a_cloudfront_waf_access_logs_and_a_geo_allowlist(synthesized):
    template = synthesized.stage_template("dev", "edge")
    config = _config(template)
    (acl_id, acl), = _of_type(template, "AWS::WAFv2::WebACL").items()
    assert acl["Scope"] == "CLOUDFRONT"
    assert config["WebACLId"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert not template.find_resources("AWS::WAFv2::WebACLAssociation")
    assert config["Logging"]["Bucket"]["Fn::GetAtt"][1] == "RegionalDomainName"
    assert config["Restrictions"]["GeoRestriction"] == {"Locations": ["US"], "RestrictionType": "whitelist"}
    template.has_resource_properties(
        "AWS::S3::Bucket", {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}}
    )


def test_domain_names_the_distribution(synthesized):
    records = _of_type(synthesized.stage_template("staging", "edge"), "AWS::Route53::RecordSet").values()
    apex = [r for r in records if r["Name"] == "staging.records.example.com."]
    assert sorted(r["Type"] for r in apex) == ["A", "AAAA"]
    assert all("CdnDistribution" in str(r["AliasTarget"]["DNSName"]) for r in apex)


def test_zone_is_created_for_the_domain_when_config_names_none(synthesized):
    template = synthesized.stage_template("dev", "zone_stack")
    template.has_resource_properties("AWS::Route53::HostedZone", {"Name": "dev.records.example.com."})
    (zone_id,) = template.find_resources("AWS::Route53::HostedZone")
    # Operators delegate the zone to these servers before anything that validates a certificate deploys.
    template.has_output("NameServers", {"Value": {"Fn::Join": [",", {"Fn::GetAtt": [zone_id, "NameServers"]}]}})
    stage = synthesized.stages["dev"]
    assert stage.zone_stack in stage.edge.dependencies
    assert stage.zone_stack in stage.secondary.certificate.dependencies


def test_failover_needs_one_primary_and_one_secondary():
    with pytest.raises(ValueError, match="exactly one PRIMARY and one SECONDARY"):
        FailoverProps(
            zone=None,  # type: ignore[arg-type]
            domain_name="x.example.com",
            origins=[RegionalOrigin(region="us-east-1", role="PRIMARY", load_balancer=None,  # type: ignore[arg-type]
                                    alarm_prefix="x")] * 2,
            health=HealthCheckSettings(path="/health", interval_seconds=30, failure_threshold=3),
            alarm_topic=None,  # type: ignore[arg-type]
            slo=None,  # type: ignore[arg-type]
        )


def test_an_existing_zone_from_config_is_imported_not_created(tmp_path, slo):
    raw = load_config(CDK_JSON).model_dump(mode="json")
    raw["environments"]["dev"]["dns"]["hosted_zone_id"] = "Z0123456789ABCDEFGHIJ"
    config = parse_config(raw)
    (stage,) = add_stages(new_app(outdir=str(tmp_path), cloudformation_validation=False), config, slo, selector="dev")
    assert stage.zone_stack is None
    certificate = Template.from_stack(stage.secondary.certificate).to_json()
    assert "Z0123456789ABCDEFGHIJ" in str(certificate) and "GetStackOutput" not in str(certificate)
    records = Template.from_stack(stage.edge).find_resources("AWS::Route53::RecordSet").values()
    assert {r["Properties"]["HostedZoneId"] for r in records} == {"Z0123456789ABCDEFGHIJ"}


def test_cloudfront_sends_the_active_origin_secret(synthesized, config):
    config_ = _config(synthesized.stage_template("prod", "edge"))
    (origin,) = config_["Origins"]
    slot = config.project.cdn.active_origin_secret
    assert origin["OriginCustomHeaders"] == [{
        "HeaderName": "X-Origin-Verify",
        "HeaderValue": f"{{{{resolve:secretsmanager:records/prod/origin-{slot}:SecretString:value::}}}}",
    }]


def test_error_responses_are_never_cached(synthesized):
    errors = _config(synthesized.stage_template("dev", "edge"))["CustomErrorResponses"]
    assert {e["ErrorCode"] for e in errors} >= {400, 403, 404, 500, 502, 503, 504}
    assert {e["ErrorCachingMinTTL"] for e in errors} == {0}
    assert not any("ResponsePagePath" in e for e in errors)  # errors pass through unchanged


def test_shared_cached_responses_drop_the_request_id_but_keep_security_headers(synthesized):
    template = synthesized.stage_template("dev", "edge")
    (policy_id, policy), = _of_type(template, "AWS::CloudFront::ResponseHeadersPolicy").items()
    config_ = policy["ResponseHeadersPolicyConfig"]
    assert config_["RemoveHeadersConfig"] == {"Items": [{"Header": "X-Request-Id"}]}
    assert config_["SecurityHeadersConfig"]["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 31536000
    cached = [b for b in _config(template)["CacheBehaviors"] if b["CachePolicyId"] != CACHING_DISABLED]
    assert {str(b["ResponseHeadersPolicyId"]) for b in cached} == {str({"Ref": policy_id})}
