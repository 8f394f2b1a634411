from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match

from policies.slo import SloCatalog


def _service(synthesized, env, role="primary"):
    (service,) = synthesized.template(env, role, "service").find_resources("AWS::ECS::Service").values()
    return service["Properties"]


def test_prod_rolls_out_blue_green_with_bake_time_and_alarm_rollback(synthesized):
    config = _service(synthesized, "prod")["DeploymentConfiguration"]
    assert config["Strategy"] == "BLUE_GREEN"
    assert config["BakeTimeInMinutes"] == 15
    assert config["Alarms"]["Enable"] is True and config["Alarms"]["Rollback"] is True
    assert len(config["Alarms"]["AlarmNames"]) == 3
    assert "CanaryConfiguration" not in config


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_other_environments_roll_out_as_canaries(synthesized, env):
    config = _service(synthesized, env, "secondary")["DeploymentConfiguration"]
    assert config["Strategy"] == "CANARY"
    assert config["CanaryConfiguration"]["CanaryPercent"] == 10
    assert config["Alarms"]["Rollback"] is True


def test_deployment_alarms_are_the_service_alarms(synthesized):
    template = synthesized.template("prod", "primary", "service")
    names = _service(synthesized, "prod")["DeploymentConfiguration"]["Alarms"]["AlarmNames"]
    alarm_ids = {name["Ref"] for name in names}
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert {alarms[i]["Properties"]["AlarmName"] for i in alarm_ids} == {
        "records-prod-use1-5xx-rate", "records-prod-use1-latency-p99", "records-prod-use1-unhealthy-hosts"
    }


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_alarm_thresholds_come_from_the_slo_file(synthesized, slo: SloCatalog, env):
    objectives = slo.for_env(env)
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synthesized.template(env, "primary", "service").find_resources("AWS::CloudWatch::Alarm").values()
        if "AlarmName" in a["Properties"]
    }
    prefix = f"records-{env}-use1"
    assert alarms[f"{prefix}-5xx-rate"]["Threshold"] == objectives.error_rate_5xx_percent
    assert alarms[f"{prefix}-latency-p99"]["Threshold"] == objectives.latency_p99_ms / 1000
    assert alarms[f"{prefix}-unhealthy-hosts"]["Threshold"] == objectives.unhealthy_hosts_max
    expression = alarms[f"{prefix}-5xx-rate"]["Metrics"][0]["Expression"]
    floor = objectives.min_requests_per_window / objectives.evaluation_window_minutes
    # Missing 5xx series must count as zero, or a window with only target errors would evaluate to no data.
    assert "FILL(target5xx, 0)" in expression and "FILL(elb5xx, 0)" in expression
    assert f"FILL(requests, 0) >= {floor:g}" in expression
    for alarm in (alarms[f"{prefix}-5xx-rate"], alarms[f"{prefix}-latency-p99"]):
        assert alarm["EvaluationPeriods"] == objectives.evaluation_window_minutes
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] and alarm["OKActions"]


def test_production_rule_forwards_to_both_colours_and_ecs_owns_the_shift(synthesized):
    template = synthesized.template("prod", "primary", "service")
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        {"Actions": [Match.object_like({"Type": "forward", "ForwardConfig": Match.object_like({
            "TargetGroups": [Match.object_like({"Weight": 100}), Match.object_like({"Weight": 0})]})})]},
    )
    load_balancers = _service(synthesized, "prod")["LoadBalancers"]
    assert load_balancers[0]["AdvancedConfiguration"]["AlternateTargetGroupArn"]
    assert load_balancers[0]["AdvancedConfiguration"]["ProductionListenerRule"]
    template.resource_count_is("AWS::ElasticLoadBalancingV2::TargetGroup", 2)
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup", {"HealthCheckPath": "/ready", "TargetType": "ip"}
    )


def test_https_listener_uses_a_tls12_policy_and_acm_certificate(synthesized):
    template = synthesized.template("staging", "secondary", "service")
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Protocol": "HTTPS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
         "Certificates": [{"CertificateArn": Match.any_value()}]},
    )
    template.resource_properties_count_is("AWS::ElasticLoadBalancingV2::Listener", {"Protocol": "HTTP"}, 0)
    template.resource_properties_count_is(
        "AWS::EC2::SecurityGroup", {"SecurityGroupIngress": Match.array_with([Match.object_like({"FromPort": 80})])}, 0
    )
    synthesized.template("staging", "secondary", "certificate").has_resource_properties(
        "AWS::CertificateManager::Certificate",
        {"DomainName": "origin.staging.records.example.com",
         "SubjectAlternativeNames": ["us-east-2.staging.records.example.com"], "ValidationMethod": "DNS",
         "DomainValidationOptions": [Match.object_like({"HostedZoneId": Match.any_value()})] * 2},
    )


def test_load_balancer_drops_invalid_headers_logs_access_and_resists_deletion(synthesized):
    attributes = Capture()
    synthesized.template("dev", "primary", "service").has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer", {"Scheme": "internet-facing", "LoadBalancerAttributes": attributes}
    )
    values = {a["Key"]: a["Value"] for a in attributes.as_array()}
    assert values["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert values["access_logs.s3.enabled"] == "true"
    assert values["deletion_protection.enabled"] == "true"


def test_waf_with_managed_rules_and_rate_limit_protects_the_load_balancer(synthesized):
    template = synthesized.template("prod", "primary", "service")
    acl = Capture()
    template.has_resource_properties("AWS::WAFv2::WebACL", {"Scope": "REGIONAL", "Rules": acl})
    rules = {rule["Name"]: rule for rule in acl.as_array()}
    expected = {"RateLimitPerIp", "BlockInternalPath", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet"}
    assert expected <= set(rules)
    internal = rules["BlockInternalPath"]
    assert internal["Action"] == {"Block": {}}
    match = internal["Statement"]["ByteMatchStatement"]
    assert (match["SearchString"], match["PositionalConstraint"]) == ("/metrics", "STARTS_WITH")
    assert [t["Type"] for t in match["TextTransformations"]] == ["URL_DECODE", "LOWERCASE"]
    association = template.find_resources("AWS::WAFv2::WebACLAssociation")
    (assoc,) = association.values()
    lb_id = next(iter(template.find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer")))
    assert assoc["Properties"]["ResourceArn"] == {"Ref": lb_id}
    template.has_resource_properties(
        "AWS::WAFv2::LoggingConfiguration",
        {"LogDestinationConfigs": ["arn:aws:logs:us-east-1:333333333333:log-group:aws-waf-logs-records-prod-use1"]},
    )


def test_credentials_are_read_at_run_time_not_placed_in_the_environment(synthesized):
    template = synthesized.template("prod", "secondary", "service")
    (task,) = template.find_resources("AWS::ECS::TaskDefinition").values()
    containers = task["Properties"]["ContainerDefinitions"]
    (container,) = [c for c in containers if c["Name"] == "web"]
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert not any("Secrets" in c for c in containers)
    assert environment["DB_SECRET_ID"] == "records/prod/db"
    assert environment["CACHE_SECRET_ID"] == "records/prod/cache" and environment["CACHE_PORT"] == "6380"
    assert not any("PASSWORD" in name or "USERNAME" in name for name in environment)
    task_role = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    policies = template.find_resources("AWS::IAM::ManagedPolicy")
    readers = {
        policy_id: p for policy_id, p in policies.items()
        if any(s["Action"] == "secretsmanager:GetSecretValue" for s in p["Properties"]["PolicyDocument"]["Statement"])
    }
    ((reader_id, reader),) = readers.items()
    roles = template.find_resources("AWS::IAM::Role")
    assert roles[task_role]["Properties"]["ManagedPolicyArns"] == [{"Ref": reader_id}]
    (statement,) = [s for s in reader["Properties"]["PolicyDocument"]["Statement"]
                    if s["Action"] == "secretsmanager:GetSecretValue"]
    assert sorted(statement["Resource"]) == [
        f"arn:aws:secretsmanager:us-east-2:333333333333:secret:records/prod/{name}-??????" for name in ("cache", "db")
    ]


def test_container_runs_read_only_as_non_root_with_encrypted_logs(synthesized):
    (task,) = synthesized.template("dev", "primary", "service").find_resources("AWS::ECS::TaskDefinition").values()
    containers = {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}
    assert sorted(containers) == ["adot-collector", "web"]
    container = containers["web"]
    assert container["Essential"] is True
    assert container["ReadonlyRootFilesystem"] is True
    assert container["User"] == "10001"
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    assert container["MountPoints"] == [{"ContainerPath": "/tmp", "ReadOnly": False, "SourceVolume": "tmp"}]
    assert task["Properties"]["RuntimePlatform"]["CpuArchitecture"] == "ARM64"


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_every_container_runs_least_privileged_within_the_task_memory(synthesized, env, role):
    (task,) = synthesized.template(env, role, "service").find_resources("AWS::ECS::TaskDefinition").values()
    containers = task["Properties"]["ContainerDefinitions"]
    for container in containers:
        assert container["User"] not in ("", "0", "root") and not container["User"].startswith(("0:", "root:"))
        assert container["ReadonlyRootFilesystem"] is True and container.get("Privileged") is not True
        assert container["Memory"] > 0 and container["HealthCheck"]["Command"][0] == "CMD"
    assert sum(c["Memory"] for c in containers) <= int(task["Properties"]["Memory"])
    (web,) = [c for c in containers if c.get("PortMappings")]
    assert web["HealthCheck"]["Command"] == ["CMD", "python", "-m", "service.healthcheck"]


def test_task_roles_have_no_inline_policies_and_scoped_permissions(synthesized):
    template = synthesized.template("dev", "primary", "service")
    template.resource_count_is("AWS::IAM::Policy", 0)
    policies = template.find_resources("AWS::IAM::ManagedPolicy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    wildcard = [s for s in statements if s["Resource"] == "*"]
    # Only actions IAM cannot scope (registry entries ecr-authorization-token-account-wide, xray-writes-...).
    assert sorted(str(s["Action"]) for s in wildcard) == sorted(
        ["ecr:GetAuthorizationToken", str(["xray:PutTelemetryRecords", "xray:PutTraceSegments"])])


def test_spot_capacity_outside_prod_only(synthesized):
    dev_strategy = _service(synthesized, "dev")["CapacityProviderStrategy"]
    assert {s["CapacityProvider"] for s in dev_strategy} == {"FARGATE", "FARGATE_SPOT"}
    assert "CapacityProviderStrategy" not in _service(synthesized, "prod")


def test_cluster_has_enhanced_container_insights(synthesized):
    synthesized.template("prod", "primary", "service").has_resource_properties(
        "AWS::ECS::Cluster", {"ClusterSettings": [{"Name": "containerInsights", "Value": "enhanced"}]}
    )


def test_autoscaling_between_configured_bounds_on_cpu_and_requests(synthesized):
    template = synthesized.template("prod", "primary", "service")
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 3, "MaxCapacity": 12}
    )
    kinds = {p["Properties"]["PolicyType"] for p in template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()}
    assert kinds == {"TargetTrackingScaling", "StepScaling"}
    # Request scaling judges requests per running task, so it follows the fleet size.
    request_alarms = [
        a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if any("RunningTaskCount" in str(m) for m in a["Properties"].get("Metrics", []))
    ]
    assert {a["Threshold"] for a in request_alarms} == {1500, 3000}


def test_deployment_alarms_notify_the_regions_alerts_topic(synthesized):
    template = synthesized.template("dev", "secondary", "service")
    template.resource_count_is("AWS::SNS::Topic", 0)  # the alerts stack owns it
    alarms = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()
              if "AlarmName" in a["Properties"]]
    # The three deployment alarms, and the flag store's writes-paused (stacks/feature_flags.py).
    assert len(alarms) == 4
    for alarm in alarms:
        assert alarm["AlarmActions"] == ["arn:aws:sns:us-east-2:111111111111:records-dev-use2-alerts"]


def _rules(synthesized, env, role):
    acl = Capture()
    synthesized.template(env, role, "service").has_resource_properties(
        "AWS::WAFv2::WebACL", {"Scope": "REGIONAL", "Rules": acl}
    )
    return {rule["Name"]: rule for rule in acl.as_array()}


@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_load_balancer_waf_refuses_requests_that_bypass_cloudfront(synthesized, role):
    rule = _rules(synthesized, "staging", role)["RequireCloudFront"]
    assert rule["Action"] == {"Block": {}}
    missing_header, not_health = rule["Statement"]["AndStatement"]["Statements"]
    accepted = missing_header["NotStatement"]["Statement"]["OrStatement"]["Statements"]
    values = sorted(s["ByteMatchStatement"]["SearchString"] for s in accepted)
    assert values == [f"{{{{resolve:secretsmanager:records/staging/origin-{slot}:SecretString:value::}}}}"
                      for slot in ("a", "b")]
    for statement in accepted:
        match = statement["ByteMatchStatement"]
        assert match["FieldToMatch"] == {"SingleHeader": {"Name": "x-origin-verify"}}
        assert match["PositionalConstraint"] == "EXACTLY"
    # Route 53 health checkers cannot send the header: only the exact health path is exempt.
    exempt = not_health["NotStatement"]["Statement"]["ByteMatchStatement"]
    assert (exempt["SearchString"], exempt["PositionalConstraint"]) == ("/health", "EXACTLY")
    assert exempt["FieldToMatch"] == {"UriPath": {}}


def test_rate_limit_counts_the_viewer_named_by_cloudfront(synthesized):
    rules = _rules(synthesized, "prod", "primary")
    statement = rules["RateLimitPerIp"]["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "FORWARDED_IP"
    assert statement["ForwardedIPConfig"] == {"HeaderName": "X-Forwarded-For", "FallbackBehavior": "MATCH"}
    priorities = [rule["Priority"] for rule in rules.values()]
    assert sorted(priorities) == list(range(len(rules)))
    assert rules["RateLimitPerIp"]["Priority"] < rules["RequireCloudFront"]["Priority"] < rules[
        "AWSManagedRulesCommonRuleSet"]["Priority"]


def test_edge_acl_counts_real_viewer_addresses_and_has_no_origin_rule(synthesized):
    acl = Capture()
    synthesized.stage_template("prod", "edge").has_resource_properties(
        "AWS::WAFv2::WebACL", {"Scope": "CLOUDFRONT", "Rules": acl}
    )
    rules = {rule["Name"]: rule for rule in acl.as_array()}
    assert "RequireCloudFront" not in rules
    assert rules["RateLimitPerIp"]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"


def test_origin_verification_needs_an_accepted_secret():
    from stacks.app_secrets import GeneratedSecret
    from stacks.origin_verify import OriginVerify

    one = GeneratedSecret(id_="A", name="n", field="value", description="d")
    with pytest.raises(ValueError, match="two accepted secrets"):
        OriginVerify(accepted=[one], exempt_path="/health")
