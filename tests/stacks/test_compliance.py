"""AWS Config in every account and region: the recorder and its delivery, the trimmed conformance packs, and the
overdue-rotation and drift rules that notify the alerts topic."""

from __future__ import annotations

import json

import pytest

from policies.conformance_packs import load_packs

ENVIRONMENTS = ["dev", "staging", "prod"]
SHORT = {"primary": "use1", "secondary": "use2"}


def _one(template, kind):
    (found,) = template.find_resources(kind).values()
    return found


def _logical(template, kind, **properties):
    (logical,) = [k for k, v in template.find_resources(kind).items()
                  if all(v["Properties"].get(p) == want for p, want in properties.items())]
    return logical


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_each_region_records_every_resource_and_global_ones_once(synthesized, env, role):
    template = synthesized.template(env, role, "compliance")
    recorder = _one(template, "AWS::Config::ConfigurationRecorder")["Properties"]
    account = synthesized.stages[env].env_config.account
    assert recorder["RoleARN"] == \
        f"arn:aws:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
    assert recorder["RecordingGroup"] == {"AllSupported": True, "IncludeGlobalResourceTypes": role == "primary"}
    channel = _one(template, "AWS::Config::DeliveryChannel")["Properties"]
    (bucket,) = [k for k, v in template.find_resources("AWS::S3::Bucket").items()
                 if "aws:kms" in json.dumps(v["Properties"].get("BucketEncryption"))]
    assert channel["S3BucketName"] == {"Ref": bucket}
    assert channel["S3KmsKeyArn"] == {"Fn::GetAtt": [_logical(template, "AWS::KMS::Key"), "Arn"]}
    depends = _one(template, "AWS::Config::DeliveryChannel")["DependsOn"]
    assert _logical(template, "AWS::Config::ConfigurationRecorder") in depends


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_both_conformance_packs_are_deployed_trimmed_after_the_recorder(synthesized, env):
    template = synthesized.template(env, "secondary", "compliance")
    packs = {p["Properties"]["ConformancePackName"]: p for p in
             template.find_resources("AWS::Config::ConformancePack").values()}
    expected = {pack.name: pack for pack in load_packs()}
    assert set(packs) == {f"records-{env}-use2-{name}" for name in expected}
    recorder = _logical(template, "AWS::Config::ConfigurationRecorder")
    channel = _logical(template, "AWS::Config::DeliveryChannel")
    for name, pack in expected.items():
        deployed = packs[f"records-{env}-use2-{name}"]
        assert json.loads(deployed["Properties"]["TemplateBody"]) == pack.template
        assert {recorder, channel} <= set(deployed["DependsOn"])


def test_a_secret_not_rotated_within_the_runbooks_interval_is_non_compliant(synthesized, config):
    template = synthesized.template("prod", "primary", "compliance")
    rule = template.find_resources("AWS::Config::ConfigRule")[
        _logical(template, "AWS::Config::ConfigRule", ConfigRuleName="records-prod-use1-secret-rotation-overdue")]
    props = rule["Properties"]
    assert props["Source"] == {"Owner": "AWS", "SourceIdentifier": "SECRETSMANAGER_SECRET_PERIODIC_ROTATION"}
    assert props["Scope"] == {"ComplianceResourceTypes": ["AWS::SecretsManager::Secret"]}
    days = config.environments["prod"].operations.secret_rotation_days
    assert props["InputParameters"] == {"maxDaysSinceRotation": str(days)} and days == 90


def test_drift_is_detected_with_a_read_only_role_only_aws_config_assumes(synthesized):
    template = synthesized.template("prod", "primary", "compliance")
    rules = template.find_resources("AWS::Config::ConfigRule")
    props = rules[_logical(template, "AWS::Config::ConfigRule", ConfigRuleName="records-prod-use1-stack-drift")][
        "Properties"]
    assert props["Source"]["SourceIdentifier"] == "CLOUDFORMATION_STACK_DRIFT_DETECTION_CHECK"
    (role,) = [v for k, v in template.find_resources("AWS::IAM::Role").items()
               if props["InputParameters"]["cloudformationRoleArn"] == {"Fn::GetAtt": [k, "Arn"]}]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "config.amazonaws.com"}
    managed = json.dumps(role["Properties"]["ManagedPolicyArns"])
    assert "policy/ReadOnlyAccess" in managed and "AdministratorAccess" not in managed


def test_overdue_rotation_and_drift_notify_the_alerts_topic(synthesized):
    template = synthesized.template("staging", "secondary", "compliance")
    (rule,) = [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()]
    pattern = rule["EventPattern"]
    assert pattern["detail-type"] == ["Config Rules Compliance Change"]
    assert pattern["detail"]["newEvaluationResult"] == {"complianceType": ["NON_COMPLIANT"]}
    names = {json.dumps(name) for name in pattern["detail"]["configRuleName"]}
    assert names == {json.dumps(r["Properties"]["ConfigRuleName"])
                     for r in template.find_resources("AWS::Config::ConfigRule").values()}
    assert "records-staging-use2-alerts" in json.dumps(rule["Targets"])


def test_aws_config_may_deliver_only_into_its_own_prefix_for_this_account(synthesized):
    template = synthesized.template("dev", "primary", "compliance")
    (policy,) = [p["Properties"]["PolicyDocument"]["Statement"] for p in
                 template.find_resources("AWS::S3::BucketPolicy").values()
                 if "ConfigDelivers" in json.dumps(p)]
    delivers = next(s for s in policy if s.get("Sid") == "ConfigDelivers")
    assert delivers["Principal"] == {"Service": "config.amazonaws.com"}
    assert delivers["Action"] == "s3:PutObject"
    assert "/AWSLogs/111111111111/Config/*" in json.dumps(delivers["Resource"])
    assert delivers["Condition"]["StringEquals"]["aws:SourceAccount"] == "111111111111"
    denied = next(s for s in policy if s.get("Effect") == "Deny")
    assert denied["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
