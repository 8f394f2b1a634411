from __future__ import annotations

import datetime as dt

import aws_cdk as cdk
import pytest
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks
from constructs import Construct

from aspects.base import GuardRules
from aspects.nag import (
    CHECKOV_METADATA_KEY,
    METADATA_KEY,
    ConstructTree,
    GuardError,
    apply_acknowledgments,
    register_packs,
)
from policies.acknowledgments import parse_registry, path_matches
from tests.factories import acknowledgment_entry

TODAY = dt.date(2026, 11, 23)
PACKS = {"AwsSolutions": AwsSolutionsChecks, "HIPAA.Security": HIPAASecurityChecks, "NIST.800.53.R5": NIST80053R5Checks}


def _rule_names(report) -> set[str]:
    return {v.rule_name for v in report.violations}


def test_packs_flag_an_unencrypted_public_bucket_and_database(stack):
    s3.CfnBucket(stack, "Plain")
    rds.CfnDBInstance(stack, "Db", engine="postgres", db_instance_class="db.t4g.micro", allocated_storage="20")
    hipaa = HIPAASecurityChecks().validate_scope(stack)
    assert not hipaa.success
    assert {"HIPAA.Security-RDSStorageEncrypted", "HIPAA.Security-S3DefaultEncryptionKMS"} <= _rule_names(hipaa)
    assert "NIST.800.53.R5-RDSStorageEncrypted" in _rule_names(NIST80053R5Checks().validate_scope(stack))
    assert "AwsSolutions-RDS2" in _rule_names(AwsSolutionsChecks().validate_scope(stack))


@pytest.mark.parametrize("env", ["dev", "prod"])
@pytest.mark.parametrize("pack", sorted(PACKS))
def test_every_finding_on_the_app_is_explained_by_a_registry_entry(synthesized, registry, env, pack):
    report = PACKS[pack]().validate_scope(synthesized.stages[env])
    unexplained = []
    for violation in report.violations:
        rule = f"{pack}::{violation.rule_name}"
        for construct in violation.violating_resources:
            path = construct.construct_path
            if not any(rule in e.rules and e.matches(path) for e in registry.entries):
                unexplained.append(f"{rule} at {path}")
    assert unexplained == []


def _registry(**overrides):
    return parse_registry([acknowledgment_entry(**{
        "id": "bucket-exception",
        "rules": ["AwsSolutions::AwsSolutions-S1"],
        "paths": ["*/Svc/Logs/Resource"],
        "reason": "Terminal log sink: logging it would recurse forever.",
        "owner": "platform",
        "expires": "2027-01-31",
        **overrides,
    })])


def _stage(env: str) -> cdk.Stage:
    stage = cdk.Stage(cdk.App(), env)
    s3.Bucket(cdk.Stack(stage, "Svc"), "Logs")
    return stage


def test_matching_entry_is_applied_and_recorded_in_the_template():
    stage = _stage("dev")
    (applied,) = apply_acknowledgments([stage], _registry(), TODAY)
    assert applied.construct_paths == ("dev/Svc/Logs/Resource",)
    resource = stage.node.find_child("Svc").node.find_child("Logs").node.default_child
    (record,) = resource.get_metadata(METADATA_KEY)
    assert record["owner"] == "platform" and record["expires"] == "2027-01-31"


def test_two_entries_on_one_resource_both_reach_its_template_metadata():
    stage = _stage("dev")
    registry = parse_registry([
        acknowledgment_entry(id="via-the-resource", rules=["AwsSolutions::AwsSolutions-S1", "checkov::CKV_AWS_18"],
                             paths=["*/Svc/Logs/Resource"]),
        acknowledgment_entry(id="via-the-bucket", rules=["HIPAA.Security::HIPAA.Security-S3BucketVersioningEnabled",
                                                         "checkov::CKV_AWS_21"], paths=["*/Svc/Logs/Resource"]),
    ])
    apply_acknowledgments([stage], registry, TODAY)
    resource = stage.node.find_child("Svc").node.find_child("Logs").node.default_child
    assert [record["id"] for record in resource.get_metadata(METADATA_KEY)] == ["via-the-resource", "via-the-bucket"]
    assert [skip["id"] for skip in resource.get_metadata(CHECKOV_METADATA_KEY)["skip"]] == ["CKV_AWS_18",
                                                                                           "CKV_AWS_21"]


def test_entry_matching_no_construct_stops_the_build():
    with pytest.raises(GuardError, match=r"acknowledgment 'bucket-exception' path '\*/Nothing/Here' matches no construct in 'dev'"):
        apply_acknowledgments([_stage("dev")], _registry(paths=["*/Nothing/Here"]), TODAY)


def test_a_glob_never_spans_construct_ids():
    # `*/Logs/Resource` would have named dev/Svc/Logs/Resource through a `*` that spans two ids; an entry names
    # each level of the tree it reaches into.
    with pytest.raises(GuardError, match=r"path '\*/Logs/Resource' matches no construct in 'dev'"):
        apply_acknowledgments([_stage("dev")], _registry(paths=["*/Logs/Resource"]), TODAY)
    (applied,) = apply_acknowledgments([_stage("dev")], _registry(paths=["*/S?c/L*/Resource"]), TODAY)
    assert applied.construct_paths == ("dev/Svc/Logs/Resource",)


def test_the_tree_walk_finds_what_matching_every_path_finds(synthesized, registry):
    """The walk visits only the branches a glob can match; on the real app it must find exactly what testing
    every construct's path against the glob finds."""
    stage = synthesized.stages["staging"]
    every = [(node.node.path, node) for node in stage.node.find_all()]
    tree = ConstructTree(stage)
    patterns = [p for e in registry.entries if e.governs_constructs for p in e.paths]
    assert patterns
    for pattern in patterns:
        expected = sorted(path for path, _ in every if path_matches(pattern, path))
        assert sorted(path for path, _ in tree.find(pattern)) == expected, pattern
    assert sorted(p for p, _ in tree.find("staging/Service-*/Alb")) == ["staging/Service-use1/Alb",
                                                                         "staging/Service-use2/Alb"]


def test_the_tree_walk_reaches_below_ids_that_look_like_globs():
    """CDK names some constructs after tokens (``Output{"Fn::GetAtt":["Key","Arn"]}``): below such an id the walk
    finds what path_matches finds, instead of reading the id as a character class."""
    stage = cdk.Stage(cdk.App(), "dev")
    odd = Construct(cdk.Stack(stage, "Keys"), 'Output{"Fn::GetAtt":["Key","Arn"]}')
    Construct(Construct(odd, "Inner"), "Resource")
    pattern = "dev/Keys/*/In*/Resource"
    assert [path for path, _ in ConstructTree(stage).find(pattern)] == [
        'dev/Keys/Output{"Fn::GetAtt":["Key","Arn"]}/Inner/Resource']
    assert path_matches(pattern, 'dev/Keys/Output{"Fn::GetAtt":["Key","Arn"]}/Inner/Resource')


def test_image_entries_are_not_matched_against_constructs():
    # Their paths name packages; the image gate (gates.image) applies them, not the guards.
    registry = _registry(rules=["image::CVE-2026-12345"], paths=["zlib1g"])
    assert apply_acknowledgments([_stage("dev")], registry, TODAY) == []


def test_expired_entry_stops_the_build():
    with pytest.raises(GuardError, match="expired on 2026-11-01"):
        apply_acknowledgments([_stage("dev")], _registry(expires="2026-11-01"), TODAY)


def test_each_path_of_an_entry_must_match():
    registry = _registry(paths=["*/Svc/Logs/Resource", "*/Svc/Typo/Resource"])
    with pytest.raises(GuardError, match=r"path '\*/Svc/Typo/Resource' matches no construct in 'dev'"):
        apply_acknowledgments([_stage("dev")], registry, TODAY)


def test_entry_naming_an_unknown_environment_stops_the_build():
    registry = _registry(environments=["production"])
    with pytest.raises(GuardError, match=r"names unknown environments \['production'\]"):
        apply_acknowledgments([_stage("dev")], registry, TODAY, known_environments=frozenset({"dev", "prod"}))


def test_entry_limited_to_prod_is_not_applied_or_required_elsewhere():
    registry = _registry(environments=["prod"], paths=["*/Nothing/Here"])
    assert apply_acknowledgments([_stage("dev")], registry, TODAY) == []


def test_checkov_rules_become_skips_on_the_resource_and_are_not_nag_acknowledgments():
    stage = _stage("dev")
    registry = _registry(rules=["AwsSolutions::AwsSolutions-S1", "checkov::CKV_AWS_18", "checkov::CKV_AWS_21"])
    apply_acknowledgments([stage], registry, TODAY)
    resource = stage.node.find_child("Svc").node.find_child("Logs").node.default_child
    skips = resource.get_metadata(CHECKOV_METADATA_KEY)["skip"]
    assert [s["id"] for s in skips] == ["CKV_AWS_18", "CKV_AWS_21"]
    assert skips[0]["comment"].endswith("[ack bucket-exception; owner platform; review by 2027-01-31]")


def test_checkov_skips_need_a_cloudformation_resource():
    registry = _registry(rules=["checkov::CKV_AWS_18"], paths=["*/Svc/Logs"])
    stage = cdk.Stage(cdk.App(), "dev")
    Construct(cdk.Stack(stage, "Svc"), "Logs")
    with pytest.raises(GuardError, match=r"path 'dev/Svc/Logs' is no CloudFormation resource"):
        apply_acknowledgments([stage], registry, TODAY)


def test_the_synthesized_replica_carries_the_registry_skip(synthesized):
    template = synthesized.template("dev", "secondary", "data").to_json()
    (replica,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance"]
    (skip,) = replica["Metadata"][CHECKOV_METADATA_KEY]["skip"]
    assert skip["id"] == "CKV_AWS_16" and "[ack read-replica-inherited-properties;" in skip["comment"]


def test_a_nag_entry_must_name_the_resource_not_a_construct_above_it():
    # An acknowledgment on the L2 bucket (or a stack) would cover every finding below it, reviewed or not.
    with pytest.raises(GuardError, match=r"path 'dev/Svc/Logs' is no CloudFormation resource; name the resource"):
        apply_acknowledgments([_stage("dev")], _registry(paths=["*/Svc/Logs"]), TODAY)


def test_two_entries_granting_one_rule_on_one_resource_stop_the_build():
    registry = parse_registry([
        acknowledgment_entry(id="narrow-one", rules=["AwsSolutions::AwsSolutions-S1"], paths=["dev/Svc/Logs/Resource"]),
        acknowledgment_entry(id="broad-one", rules=["AwsSolutions::AwsSolutions-S1"], paths=["*/*/Logs/Resource"]),
    ])
    with pytest.raises(GuardError) as raised:
        apply_acknowledgments([_stage("dev")], registry, TODAY)
    assert raised.value.problems == ["acknowledgments 'narrow-one' and 'broad-one' both grant "
                                     "AwsSolutions::AwsSolutions-S1 on dev/Svc/Logs/Resource; one finding, one entry"]


def test_acknowledgments_outside_any_stack_fail_validation():
    app = cdk.App()
    register_packs(app)
    stage = cdk.Stage(app, "dev")
    s3.Bucket(cdk.Stack(stage, "Svc"), "Logs", enforce_ssl=True)
    cdk.Validations.of(stage).acknowledge(cdk.Acknowledgment(id="AwsSolutions-S1", reason="whole stage"))
    cdk.Validations.of(Construct(stage, "Loose")).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions::AwsSolutions-S10", reason="beside the stacks"))
    Construct(stage, GuardRules.CHECKPOINT_ID)  # as aspects.guard leaves a guarded stage
    assert sorted(app.node.find_child("Registry").node.validate()) == [
        "[Guard] dev/Loose: AwsSolutions::AwsSolutions-S10 acknowledged outside any stack; only the registry "
        "acknowledges, on resources",
        "[Guard] dev: Annotation::AwsSolutions-S1 acknowledged outside any stack; only the registry acknowledges, "
        "on resources",
    ]
    cdk.Validations.of(stage.node.find_child("Svc")).acknowledge(cdk.Acknowledgment(id="AwsSolutions-S1", reason="x"))
    assert len(app.node.find_child("Registry").node.validate()) == 2  # inside a stack: the synth gate's to judge


def test_stacks_and_stages_the_guards_do_not_judge_fail_validation():
    app = cdk.App()
    register_packs(app)
    cdk.Stack(app, "Loose")
    cdk.Stage(app, "adhoc")
    assert sorted(app.node.find_child("Registry").node.validate()) == [
        "[Guard] Loose: a stack the guards do not judge; build it inside an environment stage (stacks/stage.py)",
        "[Guard] adhoc: a stage the guards do not judge; build it inside an environment stage (stacks/stage.py)",
    ]
