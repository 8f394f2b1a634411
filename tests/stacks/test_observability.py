"""Alarms from the SLO file, the composite alarm, event rules, dashboard and X-Ray sampling of each region."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from aws_cdk.assertions import Template

from policies.slo import SLO_FILE, load_slo
from stacks import alarm_catalog as catalog
from stacks.build import add_stages, new_app

MONITORING_DOC = Path(__file__).resolve().parents[2] / "docs" / "monitoring.md"


def _is_scaling_alarm(properties: dict) -> bool:
    """Alarms that autoscaling creates for step scaling: they act on a scaling policy, not on people."""
    actions = properties.get("AlarmActions", [])
    return "AlarmName" not in properties and bool(actions) and all(
        "ScalingPolicy" in str(action) or "RequestsPerTask" in str(action) for action in actions)


def _alarms(template: Template) -> dict[str, dict]:
    found = template.find_resources("AWS::CloudWatch::Alarm") | template.find_resources(
        "AWS::CloudWatch::CompositeAlarm")
    alarms = [r["Properties"] for r in found.values()]
    return {p["AlarmName"]: p for p in alarms if not _is_scaling_alarm(p)}


def _all_alarms(synthesized, env: str) -> dict[str, dict]:
    stage = synthesized.stages[env]
    found: dict[str, dict] = {}
    for stack in stage.node.children:
        if hasattr(stack, "stack_name"):
            found |= _alarms(Template.from_stack(stack))
    return found


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_alarm_threshold_is_the_slo_files_value(synthesized, slo, env):
    objectives = slo.for_env(env)
    alarms = _all_alarms(synthesized, env)
    prefix = f"records-{env}-use1-"
    assert alarms[prefix + "5xx-rate"]["Threshold"] == objectives.error_rate_5xx_percent
    assert alarms[prefix + "latency-p99"]["Threshold"] == objectives.latency_p99_ms / 1000
    assert alarms[prefix + "latency-p95"]["Threshold"] == objectives.latency_p95_ms / 1000
    assert alarms[prefix + "unhealthy-hosts"]["Threshold"] == objectives.unhealthy_hosts_max
    assert alarms[prefix + "availability-burn"]["Threshold"] == pytest.approx(
        14.4 * (100 - objectives.availability_percent))
    assert alarms[f"records-{env}-use2-replica-lag"]["Threshold"] == objectives.replica_lag_seconds
    assert f"records-{env}-use1-replica-lag" not in alarms  # the primary has no replica
    for name, alarm in alarms.items():
        if "EvaluationPeriods" in alarm and name.endswith(("5xx-rate", "latency-p99", "latency-p95")):
            assert alarm["EvaluationPeriods"] == objectives.evaluation_window_minutes


def test_changing_the_slo_file_changes_the_alarms(tmp_path):
    document = yaml.safe_load(SLO_FILE.read_text())
    document["environments"]["dev"] = {"latency_p95_ms": 123, "latency_p99_ms": 456, "error_rate_5xx_percent": 2.5,
                                       "replica_lag_seconds": 42, "availability_percent": 99.0}
    changed = tmp_path / "slo.yaml"
    changed.write_text(yaml.safe_dump(document))
    from stacks.config import CDK_JSON, load_config

    (stage,) = add_stages(new_app(outdir=str(tmp_path / "out"), cloudformation_validation=False), load_config(CDK_JSON), load_slo(changed),
                          selector="dev")
    primary = _alarms(Template.from_stack(stage.primary.observability)) | _alarms(
        Template.from_stack(stage.primary.service))
    secondary = _alarms(Template.from_stack(stage.secondary.observability))
    assert primary["records-dev-use1-latency-p95"]["Threshold"] == 0.123
    assert primary["records-dev-use1-latency-p99"]["Threshold"] == 0.456
    assert primary["records-dev-use1-5xx-rate"]["Threshold"] == 2.5
    assert primary["records-dev-use1-availability-burn"]["Threshold"] == pytest.approx(14.4)
    assert secondary["records-dev-use2-replica-lag"]["Threshold"] == 42
    assert "456 ms" in primary["records-dev-use1-latency-p99"]["AlarmDescription"]


def _referenced_alarms(rule: object, service_outputs: dict) -> set[str]:
    """Logical ids of the alarms a composite rule names: local GetAtts, or service-stack outputs resolved."""
    found: set[str] = set()
    if isinstance(rule, dict):
        if "Fn::GetAtt" in rule:
            found.add(rule["Fn::GetAtt"][0])
        elif "Fn::GetStackOutput" in rule:
            found.add("service:" + service_outputs[rule["Fn::GetStackOutput"]["OutputName"]]["Value"]["Fn::GetAtt"][0])
        else:
            for value in rule.values():
                found |= _referenced_alarms(value, service_outputs)
    elif isinstance(rule, list):
        for item in rule:
            found |= _referenced_alarms(item, service_outputs)
    return found


def test_composite_service_unhealthy_watches_exactly_the_catalogued_members(synthesized):
    stacks = synthesized.stacks("staging", "secondary")
    template = Template.from_stack(stacks.observability)
    (composite,) = template.find_resources("AWS::CloudWatch::CompositeAlarm").values()
    properties = composite["Properties"]
    assert properties["AlarmName"] == "records-staging-use2-service-unhealthy"
    service = Template.from_stack(stacks.service)
    members = _referenced_alarms(properties["AlarmRule"], service.to_json()["Outputs"])
    names = {logical_id: a["Properties"]["AlarmName"] for logical_id, a in
             (service.find_resources("AWS::CloudWatch::Alarm") | template.find_resources(
                 "AWS::CloudWatch::Alarm")).items() if "AlarmName" in a["Properties"]}
    member_names = {names[m.removeprefix("service:")] for m in members}
    assert member_names == {f"records-staging-use2-{spec.key}" for spec in catalog.COMPOSITE_MEMBERS}
    rule = str(properties["AlarmRule"])
    assert rule.count("ALARM(") == 4 and " OR " in rule and " AND " not in rule
    assert properties["AlarmActions"] == ["arn:aws:sns:us-east-2:222222222222:records-staging-use2-alerts"]


def test_every_alarm_notifies_the_regions_alerts_topic_on_alarm_and_ok(synthesized):
    for name, alarm in _all_alarms(synthesized, "prod").items():
        # Route 53 metrics exist only in us-east-1, so both regions' health alarms live (and notify) there.
        short = "use1" if "-use1-" in name or name.endswith("route53-health") else "use2"
        region = {"use1": "us-east-1", "use2": "us-east-2"}[short]
        topic = f"arn:aws:sns:{region}:333333333333:records-prod-{short}-alerts"
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["OKActions"] == alarm["AlarmActions"], name


def test_alerts_topic_is_encrypted_and_admits_only_this_accounts_services(synthesized):
    template = synthesized.template("dev", "primary", "alerts")
    template.has_resource_properties("AWS::SNS::Topic", {"TopicName": "records-dev-use1-alerts"})
    (topic,) = template.find_resources("AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    (policy,) = template.find_resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (publish,) = [s for s in statements if s.get("Sid") == "AwsServicesOfThisAccountPublish"]
    assert sorted(publish["Principal"]["Service"]) == [
        "budgets.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"]
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}
    keys = synthesized.template("dev", "primary", "keys").to_json()
    assert "budgets.amazonaws.com" in str(keys) and "events.amazonaws.com" in str(keys)


def test_deployment_failures_and_database_failovers_reach_the_topic(synthesized):
    template = synthesized.template("prod", "secondary", "observability")
    rules = {r["Properties"]["Description"]: r["Properties"] for r in template.find_resources(
        "AWS::Events::Rule").values()}
    topic = "arn:aws:sns:us-east-2:333333333333:records-prod-use2-alerts"
    failed = rules["ECS deployment of this region's service failed or was rolled back"]
    assert failed["EventPattern"]["source"] == ["aws.ecs"]
    assert "records-prod-use2" not in str(failed["EventPattern"]["resources"])  # the service ARN, a reference
    failed_or_rolling_back = failed["EventPattern"]["detail"]["$or"]
    assert {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]} in failed_or_rolling_back
    (rollback,) = [p for p in failed_or_rolling_back if p["eventName"] == ["SERVICE_DEPLOYMENT_IN_PROGRESS"]]
    assert {"wildcard": "*rolling back*"} in rollback["reason"]
    assert [t["Arn"] for t in failed["Targets"]] == [topic]
    database = rules["Failover, failure, replication and recovery events of this region's database"]
    assert database["EventPattern"]["resources"] == ["arn:aws:rds:us-east-2:333333333333:db:records-prod-use2"]
    assert "failover" in database["EventPattern"]["detail"]["EventCategories"]
    assert [t["Arn"] for t in database["Targets"]] == [topic]


def test_dashboard_shows_traffic_latency_capacity_data_tier_and_edge_defence(synthesized):
    template = synthesized.template("dev", "secondary", "observability")
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "records-dev-use2"
    body = str(dashboard["Properties"]["DashboardBody"])
    for needle in ("RequestCount", "HTTPCode_Target_5XX_Count", "p50", "p95", "p99", "HealthyHostCount",
                   "CPUUtilization", "MemoryUtilization", "DatabaseConnections", "ReplicaLag", "CacheHitRate",
                   "BlockedRequests", "Deployment events", "/aws/events/records-dev-use2-deployments"):
        assert needle in body, needle


def test_sampling_rule_and_trace_group_follow_config(synthesized, config):
    template = synthesized.template("prod", "primary", "observability")
    rate = config.environments["prod"].operations.trace_sampling_percent / 100
    template.has_resource_properties("AWS::XRay::SamplingRule", {"SamplingRule": {
        "RuleName": "records-prod-use1", "FixedRate": rate, "ReservoirSize": 1, "ServiceName": "records",
        "Priority": 100, "Host": "*", "HTTPMethod": "*", "URLPath": "*", "ResourceARN": "*", "ServiceType": "*",
        "Version": 1}})
    template.has_resource_properties("AWS::XRay::Group", {
        "GroupName": "records-prod-use1", "FilterExpression": 'service("records")',
        "InsightsConfiguration": {"InsightsEnabled": True, "NotificationsEnabled": False}})


def test_collector_sidecar_exports_to_xray_from_loopback(synthesized, config):
    template = synthesized.template("staging", "primary", "service")
    (task,) = template.find_resources("AWS::ECS::TaskDefinition").values()
    containers = {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}
    collector = containers["adot-collector"]
    assert collector["Essential"] is False and collector["ReadonlyRootFilesystem"] is True
    assert collector["Image"] == config.project.adot_image
    settings = yaml.safe_load({e["Name"]: e["Value"] for e in collector["Environment"]}["AOT_CONFIG_CONTENT"])
    assert settings["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "127.0.0.1:4318"
    assert settings["service"]["pipelines"]["traces"]["exporters"] == ["awsxray"]
    web = {e["Name"]: e["Value"] for e in containers["web"]["Environment"]}
    assert web["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert web["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
    sampling = config.environments["staging"].operations.trace_sampling_percent
    assert float(web["OTEL_TRACES_SAMPLER_ARG"]) == sampling / 100
    writes = [s for p in template.find_resources("AWS::IAM::ManagedPolicy").values()
              for s in p["Properties"]["PolicyDocument"]["Statement"] if "xray:PutTraceSegments" in s["Action"]]
    assert len(writes) == 1
    assert sorted(writes[0]["Action"]) == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    assert (writes[0]["Effect"], writes[0]["Resource"]) == ("Allow", "*")


def test_monitoring_doc_is_generated_from_the_catalog():
    assert MONITORING_DOC.read_text() == catalog.render(load_slo()), (
        "docs/monitoring.md drifted: run `python -m stacks.alarm_catalog > docs/monitoring.md`")


def test_every_synthesized_alarm_is_in_the_catalog_and_every_entry_exists(synthesized):
    keys = {spec.key for spec in catalog.CATALOG}
    found = set()
    for env in ("dev", "staging", "prod"):
        for name in _all_alarms(synthesized, env):
            match = re.fullmatch(rf"records-{env}-use[12]-(.+)", name or "")
            assert match, f"alarm {name!r} is not named <project>-<env>-<region>-<key>"
            assert match.group(1) in keys, f"alarm {name} is missing from stacks/alarm_catalog.py"
            found.add(match.group(1))
    assert found == keys


def test_alerts_reach_the_configured_people(synthesized, config):
    emails = config.environments["prod"].operations.alert_emails
    for role in ("primary", "secondary"):
        subscriptions = synthesized.template("prod", role, "alerts").find_resources("AWS::SNS::Subscription")
        assert sorted(s["Properties"]["Endpoint"] for s in subscriptions.values()) == sorted(emails)
        assert {s["Properties"]["Protocol"] for s in subscriptions.values()} == {"email"}
