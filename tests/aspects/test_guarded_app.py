"""The whole app under every guard: what `make synth` promises, checked on the session's synthesis."""

from __future__ import annotations

import json

import aws_cdk as cdk

from aspects.nag import METADATA_KEY
from aspects.stateful import STATEFUL_TYPES
from stacks.config import REQUIRED_TAG_KEYS


def _all_templates(synthesized, env) -> list[dict]:
    """Every template the environment deploys, global stacks included, as the assembly holds them."""
    paths = sorted((synthesized.outdir / f"assembly-{env}").glob("*.template.json"))
    stacks = [child for child in synthesized.stages[env].node.children if isinstance(child, cdk.Stack)]
    assert len(paths) == len(stacks) > 20
    return [json.loads(path.read_text()) for path in paths]


def test_every_environment_and_region_synthesizes_with_no_blocking_finding(synthesized):
    assert synthesized.verdict.violations == []
    assert synthesized.verdict.unused == []
    assert set(synthesized.stages) == {"dev", "staging", "prod"}


def test_each_pack_ran_and_its_acknowledgments_are_recorded(synthesized):
    plugins = {p["pluginName"]: p for p in synthesized.report["pluginReports"]}
    for pack in ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5"):
        assert plugins[pack]["conclusion"] == "success"
        suppressed = plugins[pack]["suppressedViolations"]
        assert suppressed and all("owner " in s["reason"] and "review by" in s["reason"] for s in suppressed)


def test_acknowledged_resources_carry_the_record_in_their_template(synthesized):
    template = synthesized.template("prod", "primary", "service").to_json()
    records = [
        r["Metadata"][METADATA_KEY] for r in template["Resources"].values() if METADATA_KEY in r.get("Metadata", {})
    ]
    assert any(rec["id"] == "alb-public-https-ingress" for group in records for rec in group)


def test_prod_keeps_every_stateful_resource_on_stack_deletion(synthesized):
    stateful = [r for t in _all_templates(synthesized, "prod") for r in t["Resources"].values()
                if r["Type"] in STATEFUL_TYPES]
    # The data of every kind of stack: databases, cache, backups, audit trail and evidence, keys, logs.
    assert {r["Type"] for r in stateful} >= {
        "AWS::RDS::DBInstance", "AWS::ElastiCache::ReplicationGroup", "AWS::Backup::BackupVault", "AWS::S3::Bucket",
        "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::SNS::Topic", "AWS::SecretsManager::Secret",
        "AWS::ECR::Repository"}
    assert [r["Type"] for r in stateful if r.get("DeletionPolicy") != "Retain"] == []


def test_required_tags_reach_taggable_resources(synthesized):
    template = synthesized.template("staging", "primary", "data").to_json()
    (instance,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance"]
    tags = {t["Key"]: t["Value"] for t in instance["Properties"]["Tags"]}
    assert set(REQUIRED_TAG_KEYS) <= set(tags)
    assert tags["Environment"] == "staging" and tags["DataClassification"] == "phi"


def test_no_generated_helper_lambdas_beyond_the_default_security_group_closer(synthesized):
    lambdas = [
        r for t in _all_templates(synthesized, "dev") for r in t["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    assert len(lambdas) == 2  # one Custom::VpcRestrictDefaultSG provider per regional network stack
