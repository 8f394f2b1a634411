"""Whose each suppression is, and how many findings each entry accepts: the synth gate's reading of the report
and of the stacks' construct metadata (end-to-end cases are in tests/test_gate_integrity.py)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from aspects.nag import AppliedAcknowledgment
from gates.suppressions import Assembly, AssemblyUnreadable, finding_weight, judge_suppressions
from policies.acknowledgments import AcknowledgmentEntry

EC23 = "AwsSolutions::AwsSolutions-EC23"
ALB = "dev/Service-use1/Alb/SecurityGroup/Resource"
TASK_SG = "dev/Service-use1/TaskSg/Resource"


def entry(**overrides) -> AcknowledgmentEntry:
    return AcknowledgmentEntry(**{
        "id": "public-alb", "rules": (EC23,), "paths": ("*/Service-*/Alb/SecurityGroup/Resource",),
        "reason": "The ALB is the public entry point and must accept HTTPS.", "owner": "net",
        "expires": dt.date(2027, 1, 1), "accepts": 1, **overrides})


ENTRY = entry()
APPLIED_IN_DEV = (AppliedAcknowledgment(ENTRY, "dev", (ALB,)),)


def suppressed(path=ALB, rule=EC23, reason=f"{ENTRY.reason} {ENTRY.marker}", pack="AwsSolutions"):
    return {"pluginName": pack, "suppressedViolations": [
        {"ruleName": rule.split("::")[1], "acknowledgedId": rule, "acknowledgedAt": path, "reason": reason}]}


def report(*plugins):
    return {"pluginReports": list(plugins)}


def judged(document, applied=APPLIED_IN_DEV, assembly=None):
    return judge_suppressions(document, list(applied), assembly or Assembly(resources={}, acknowledgments={}))


def test_a_registry_suppression_is_counted_for_its_entry():
    verdict = judged(report(suppressed()))
    assert verdict.problems == [] and verdict.unused == [] and verdict.counts == {"public-alb": {"dev": 1}}


def test_a_suppression_without_a_marker_is_outside_the_registry():
    verdict = judged(report(suppressed(reason="we said so")))
    # The entry itself then suppressed nothing: it is reported as such too.
    assert verdict.problems[0] == f"{ALB}: {EC23} suppressed outside the registry (it carries no registry marker)"
    assert verdict.unused and verdict.counts == {}


def test_a_marker_of_an_entry_that_does_not_grant_the_rule_is_outside_the_registry():
    verdict = judged(report(suppressed(rule="AwsSolutions::AwsSolutions-EC27")))
    assert "which does not grant AwsSolutions::AwsSolutions-EC27" in verdict.problems[0]


def test_other_validators_suppressions_are_not_the_registrys_business():
    assert judged(report(suppressed(pack="CloudFormation Validate", reason="cdk"), suppressed())).problems == []


@pytest.mark.parametrize("acknowledged, line", [
    ({"Annotation::AwsSolutions-EC23": "x"},
     f"{TASK_SG}: AwsSolutions-EC23 acknowledged outside the registry (a plain id, which hides its finding from the "
     "report; only registry entries acknowledge)"),
    # cdk-nag strips the prefix in any letter case.
    ({"ANNOTATION::AwsSolutions-EC23": "x"},
     f"{TASK_SG}: AwsSolutions-EC23 acknowledged outside the registry (a plain id, which hides its finding from the "
     "report; only registry entries acknowledge)"),
    ({"awssolutions::AwsSolutions-EC23": "x"},
     f"{TASK_SG}: awssolutions::AwsSolutions-EC23 acknowledged outside the registry (no rule the registry grants)"),
    ({EC23: "no marker"}, f"{TASK_SG}: {EC23} acknowledged outside the registry (it carries no registry marker)"),
    ({EC23: ENTRY.marker},
     f"{TASK_SG}: {EC23} acknowledged outside the registry (it names entry 'public-alb', whose paths do not match "
     f"{TASK_SG})"),
])
def test_acknowledgments_in_stack_metadata_must_be_the_registrys(acknowledged, line):
    assembly = Assembly(resources={}, acknowledgments={TASK_SG: acknowledged})
    assert judged(report(suppressed()), assembly=assembly).problems == [line]


def test_only_the_registrys_and_cdks_own_acknowledgments_pass():
    assembly = Assembly(resources={}, acknowledgments={
        ALB: {EC23: f"why {ENTRY.marker}"}, "dev/Network-use1/Vpc/All": {"CloudFormation-Validate::F3002": "cdk"},
        "dev/Service-use1/Service": {"Annotation::@aws-cdk/aws-ecs:shouldUseCircuitBreaker": "warning only"}})
    (line,) = judged(report(suppressed()), assembly=assembly).problems
    assert line.startswith("dev/Service-use1/Service: @aws-cdk/aws-ecs:shouldUseCircuitBreaker acknowledged outside")


def test_a_nested_stack_keeps_its_metadata_in_its_parents_file(tmp_path):
    _stack_files(tmp_path, "devS", {"Resources": {}}, {"/dev/S/Inner/Queue/Resource": [
        {"type": "aws:cdk:acknowledged-rules", "data": {EC23: "x"}}]})
    _stack_files(tmp_path, "devSInnerNestedStackABC.nested", {"Resources": {}}, None)
    assert Assembly.read(tmp_path).acknowledgments == {"dev/S/Inner/Queue/Resource": {EC23: "x"}}


def test_an_entry_without_its_finding_in_an_environment_is_unused_there():
    applied = (AppliedAcknowledgment(ENTRY, "dev", (ALB,)), AppliedAcknowledgment(ENTRY, "prod", (f"prod{ALB[3:]}",)))
    verdict = judged(report(suppressed()), applied)
    assert verdict.unused == [f"acknowledgment 'public-alb' rule {EC23} suppressed nothing in 'prod'; the finding is "
                              "fixed, so remove the rule from the entry"]


def test_a_glob_matching_a_construct_it_suppresses_nothing_on_is_too_broad():
    wide = entry(paths=("*/Service-*/*/Resource", "*/Service-*/Alb/SecurityGroup/Resource"))
    applied = (AppliedAcknowledgment(wide, "dev", (ALB, TASK_SG, "dev/Service-use1/Cluster/Resource")),)
    (line,) = judged(report(suppressed(reason=f"why {wide.marker}")), applied).problems
    assert line == ("acknowledgment 'public-alb' matches Service-use1/Cluster/Resource and 1 more where it suppresses "
                    "nothing in any environment; narrow its paths to the constructs of its findings")


def test_a_construct_whose_finding_is_in_another_environment_keeps_the_glob_narrow():
    applied = (AppliedAcknowledgment(entry(accepts={"prod": 1}), "prod", (f"prod{ALB[3:]}",)),)
    assert judged(report(suppressed(path=f"prod{ALB[3:]}")), applied).problems == []


@pytest.mark.parametrize("accepts, line", [
    (2, "acknowledgment 'public-alb' suppresses 1 findings in 'dev' but accepts 2: lower accepts to 1"),
    ({"prod": 1}, "acknowledgment 'public-alb' states no count for 'dev'; it suppresses 1 findings there "
                  "(accepts: {dev: 1, ...})"),
])
def test_an_entry_must_state_what_it_accepts(accepts, line):
    applied = (AppliedAcknowledgment(entry(accepts=accepts), "dev", (ALB,)),)
    assert judged(report(suppressed()), applied).problems == [line]


def test_a_second_finding_under_an_entry_fails_until_it_is_reviewed():
    second = suppressed(path="dev/Service-use2/Alb/SecurityGroup/Resource")
    applied = (AppliedAcknowledgment(ENTRY, "dev", (ALB, second["suppressedViolations"][0]["acknowledgedAt"])),)
    assert judged(report(suppressed(), second), applied).problems == [
        "acknowledgment 'public-alb' suppresses 2 findings in 'dev' but accepts 1: review the new ones, then set "
        "accepts to 2"]


def _policy(*statements):
    return {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Statement": list(statements)}}}


BUCKET_OBJECTS = {"Fn::Join": ["", [{"Fn::GetAtt": ["Vault", "Arn"]}, "/*"]]}


@pytest.mark.parametrize("rule, resource, weight", [
    ("AwsSolutions-IAM5[Resource::*]", _policy({"Effect": "Allow", "Action": ["a:One", "a:Two"], "Resource": "*"},
                                               {"Effect": "Allow", "Action": "a:One", "Resource": ["*"]},
                                               {"Effect": "Deny", "Action": "a:Three", "Resource": "*"}), 2),
    ("AwsSolutions-IAM5[Resource::<Vault.Arn>/*]", _policy(
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": BUCKET_OBJECTS}), 2),
    ("AwsSolutions-IAM5[Action::s3:*]", _policy({"Effect": "Allow", "Action": "s3:*",
                                                 "Resource": [{"Ref": "Bucket"}, "arn:aws:s3:::other"]}), 2),
    ("AwsSolutions-IAM5[Resource::*]", {"Type": "AWS::IAM::Role", "Properties": {"Policies": [
        {"PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": ["x:A", "x:B", "x:C"], "Resource": "*"}]}}]}}, 3),
    ("AwsSolutions-IAM5[Resource::*]", _policy({"Effect": "Allow", "Action": "a:One", "Resource": "arn:x"}), 1),
    ("AwsSolutions-EC23", {"Type": "AWS::EC2::SecurityGroup"}, 1),
    ("AwsSolutions-IAM5[Principal::*]", _policy({"Effect": "Allow", "Action": "a:One", "Resource": "*"}), 1),
    ("AwsSolutions-IAM5[Resource::*]", None, 1),
])
def test_a_wildcard_finding_counts_each_grant_it_stands_for(rule, resource, weight):
    assert finding_weight(rule, resource) == weight


def _stack_files(directory, name, template, metadata):
    (directory / f"{name}.template.json").write_text(json.dumps(template))
    if metadata is not None:
        (directory / f"{name}.metadata.json").write_text(json.dumps(metadata))


def test_the_assembly_is_read_by_construct_path(tmp_path):
    policy = {**_policy(), "Metadata": {"aws:cdk:path": "dev/S/Policy/Resource"}}
    _stack_files(tmp_path, "devS", {"Resources": {"Policy": policy}}, {
        "/dev/S/Policy/Resource": [{"type": "aws:cdk:logicalId", "data": "Policy"},
                                   {"type": "aws:cdk:acknowledged-rules", "data": {EC23: "a"}},
                                   {"type": "aws:cdk:acknowledged-rules", "data": {"Annotation::X": "b"}}]})
    assembly = Assembly.read(tmp_path)
    assert assembly.resources == {"dev/S/Policy/Resource": policy}
    assert assembly.acknowledgments == {"dev/S/Policy/Resource": {EC23: "a", "Annotation::X": "b"}}


def test_a_stack_without_its_construct_metadata_cannot_be_judged(tmp_path):
    _stack_files(tmp_path, "devS", {"Resources": {}}, None)
    with pytest.raises(AssemblyUnreadable, match="devS.template.json"):
        Assembly.read(tmp_path)
