"""AppConfig holds the service's flags in every environment and region, and the service reads exactly those."""

from __future__ import annotations

import json

import jsonschema
import pytest

from service.flags import Flags
from stacks.feature_flags import DEFAULT_FLAGS, FLAG_SCHEMA
from stacks.naming import SERVICE_CONTAINER

ENVIRONMENTS = ["dev", "staging", "prod"]
ROLES = ["primary", "secondary"]


def _only(template, kind):
    (logical_id, resource), *others = template.find_resources(kind).items()
    assert not others, f"more than one {kind}"
    return logical_id, resource["Properties"]


def _container_environment(template):
    (definition,) = template.find_resources("AWS::ECS::TaskDefinition").values()
    app = next(c for c in definition["Properties"]["ContainerDefinitions"] if c["Name"] == SERVICE_CONTAINER)
    return {entry["Name"]: entry["Value"] for entry in app["Environment"]}


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("role", ROLES)
def test_the_service_reads_the_flags_of_its_own_environment_and_region(synthesized, env, role):
    template = synthesized.template(env, role, "service")
    settings = _container_environment(template)
    application, _ = _only(template, "AWS::AppConfig::Application")
    environment, environment_props = _only(template, "AWS::AppConfig::Environment")
    profile, profile_props = _only(template, "AWS::AppConfig::ConfigurationProfile")
    assert settings["APPCONFIG_APPLICATION"] == {"Ref": application}
    assert settings["APPCONFIG_ENVIRONMENT"] == {"Ref": environment}
    assert settings["APPCONFIG_PROFILE"] == {"Ref": profile}
    assert environment_props["ApplicationId"] == {"Ref": application}
    assert profile_props["ApplicationId"] == {"Ref": application}
    assert profile_props["LocationUri"] == "hosted" and profile_props["Type"] == "AWS.Freeform"


def test_the_service_configured_as_the_task_definition_says_polls_appconfig(synthesized, monkeypatch):
    """service/settings.py turns AppConfig on only with all three settings; the whole container environment, ids
    standing in for the references, must do so."""
    from service.settings import Settings

    environment = _container_environment(synthesized.template("prod", "primary", "service"))
    for name, value in environment.items():
        monkeypatch.setenv(name, value if isinstance(value, str) else f"id-of-{json.dumps(value)}")
    settings = Settings()
    assert settings.uses_appconfig
    assert settings.appconfig_profile == 'id-of-' + json.dumps(environment["APPCONFIG_PROFILE"])


def test_the_profile_validates_the_flags_against_their_schema(synthesized):
    template = synthesized.template("prod", "primary", "service")
    _, props = _only(template, "AWS::AppConfig::ConfigurationProfile")
    (validator,) = props["Validators"]
    assert validator["Type"] == "JSON_SCHEMA"
    schema = json.loads(validator["Content"])
    jsonschema.validate(DEFAULT_FLAGS, schema)
    for bad in ({"read_only": {"enabled": "yes"}, "inject_latency": {"enabled": False}},
                {"read_only": {"enabled": True}},  # a document without inject_latency
                {**DEFAULT_FLAGS, "inject_latency": {"enabled": True, "ms": 60_000}},
                {**DEFAULT_FLAGS, "read_onyl": {"enabled": True}}):  # a typo is refused, not ignored
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_the_deployed_defaults_are_valid_and_pause_nothing(synthesized):
    template = synthesized.template("prod", "primary", "service")
    _, version = _only(template, "AWS::AppConfig::HostedConfigurationVersion")
    content = json.loads(version["Content"])
    jsonschema.validate(content, FLAG_SCHEMA)
    assert Flags.parse(content) == Flags()
    assert version["ContentType"] == "application/json"


def test_a_gradual_strategy_for_changes_and_an_immediate_one_for_read_only(synthesized):
    template = synthesized.template("prod", "primary", "service")
    strategies = {p["Properties"]["Name"]: p["Properties"]
                  for p in template.find_resources("AWS::AppConfig::DeploymentStrategy").values()}
    gradual, immediate = strategies["records-prod-use1-gradual"], strategies["records-prod-use1-immediate"]
    assert gradual["GrowthType"] == "LINEAR" and gradual["GrowthFactor"] < 100 and gradual["FinalBakeTimeInMinutes"] > 0
    # read_only's 503s would trip the 5xx monitor: no deployment time and no bake leave no window to roll it back.
    assert immediate["GrowthFactor"] == 100
    assert immediate["DeploymentDurationInMinutes"] == 0 and immediate["FinalBakeTimeInMinutes"] == 0
    (deployment,) = template.find_resources("AWS::AppConfig::Deployment").values()
    strategy_ids = {name: logical for logical, p in template.find_resources("AWS::AppConfig::DeploymentStrategy").items()
                    for name in [p["Properties"]["Name"]]}
    assert deployment["Properties"]["DeploymentStrategyId"] == {"Ref": strategy_ids["records-prod-use1-gradual"]}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_deployment_alarms_roll_a_bad_flag_change_back_but_a_pause_does_not(synthesized, env):
    template = synthesized.template(env, "primary", "service")
    _, environment = _only(template, "AWS::AppConfig::Environment")
    monitored = {m["AlarmArn"]["Fn::GetAtt"][0] for m in environment["Monitors"]}
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    names = {alarms[logical]["Properties"]["AlarmName"] for logical in monitored if logical in alarms}
    assert names == {f"records-{env}-use1-latency-p99", f"records-{env}-use1-unhealthy-hosts"}
    # The 5xx rate only while no write is refused by read_only: clearing a pause must not be rolled back.
    (composite,) = [logical for logical in monitored if logical not in alarms]
    rule = json.dumps(template.find_resources("AWS::CloudWatch::CompositeAlarm")[composite]["Properties"]["AlarmRule"])
    by_name = {a["Properties"].get("AlarmName"): logical for logical, a in alarms.items()}
    error_rate, paused = by_name[f"records-{env}-use1-5xx-rate"], by_name[f"records-{env}-use1-writes-paused"]
    assert rule.index(error_rate) < rule.index("AND (NOT (ALARM") < rule.index(paused)
    (role,) = {m["AlarmRoleArn"]["Fn::GetAtt"][0] for m in environment["Monitors"]}
    trust = template.find_resources("AWS::IAM::Role")[role]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "appconfig.amazonaws.com"}


def test_the_paused_alarm_watches_the_metric_the_service_emits_and_tells_the_on_call(synthesized):
    from service.observability import EMF_NAMESPACE, WRITES_PAUSED

    template = synthesized.template("staging", "secondary", "service")
    (paused,) = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()
                 if a["Properties"].get("AlarmName") == "records-staging-use2-writes-paused"]
    assert (paused["Namespace"], paused["MetricName"]) == (EMF_NAMESPACE, WRITES_PAUSED)
    assert paused["Dimensions"] == [{"Name": "Environment", "Value": "staging"}]
    assert paused["Threshold"] == 1 and paused["TreatMissingData"] == "notBreaching"
    # One refused write holds it for the 5xx-rate alarm's whole window, which that write's 503 can hold too.
    (error_rate,) = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()
                     if a["Properties"].get("AlarmName") == "records-staging-use2-5xx-rate"]
    assert paused["EvaluationPeriods"] == error_rate["EvaluationPeriods"] == 5 and paused["DatapointsToAlarm"] == 1
    assert paused["AlarmActions"] == paused["OKActions"] and "records-staging-use2-alerts" in json.dumps(paused["OKActions"])


def _statements(template, role_description_start):
    (policy,) = [p["Properties"] for p in template.find_resources("AWS::IAM::ManagedPolicy").values()
                 if p["Properties"].get("Description", "").startswith(role_description_start)]
    return policy["PolicyDocument"]["Statement"]


def test_the_task_role_may_read_its_own_flags_and_nothing_else_in_appconfig(synthesized):
    template = synthesized.template("prod", "primary", "service")
    statements = [s for s in _statements(template, "The records service")
                  if any(str(a).startswith("appconfig:") for a in _listed(s["Action"]))]
    (statement,) = statements
    assert sorted(_listed(statement["Action"])) == ["appconfig:GetLatestConfiguration",
                                                     "appconfig:StartConfigurationSession"]
    resource = json.dumps(statement["Resource"])
    application, _ = _only(template, "AWS::AppConfig::Application")
    environment, _ = _only(template, "AWS::AppConfig::Environment")
    profile, _ = _only(template, "AWS::AppConfig::ConfigurationProfile")
    for logical in (application, environment, profile):
        assert json.dumps({"Ref": logical}) in resource
    assert "*" not in resource.replace('"Ref"', "")


def test_appconfig_reads_only_the_monitored_alarms(synthesized):
    template = synthesized.template("prod", "primary", "service")
    (statement,) = _statements(template, "AppConfig:")
    assert statement["Action"] == "cloudwatch:DescribeAlarms"
    assert len(statement["Resource"]) == 3 and all("Fn::GetAtt" in r for r in statement["Resource"])
    _, environment = _only(template, "AWS::AppConfig::Environment")
    assert {json.dumps(r) for r in statement["Resource"]} == {json.dumps(m["AlarmArn"]) for m in environment["Monitors"]}


def _listed(value):
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("flags", [Flags(), Flags(read_only=True), Flags(inject_latency_ms=300)])
def test_every_document_the_service_and_the_drivers_write_passes_the_profile_validator(flags):
    """The lab and AwsDriver write Flags.document(); AppConfig would refuse a version its validator rejects."""
    jsonschema.validate(flags.document(), FLAG_SCHEMA)


def test_the_stack_deploys_the_service_defaults():
    assert DEFAULT_FLAGS == Flags().document()
