"""AWS's conformance packs as shipped (policies/conformance/), and their trim to the services deployed here."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import yaml

from policies.conformance_packs import (
    DIRECTORY,
    TEMPLATE_BODY_LIMIT,
    ConformanceError,
    Drop,
    drop_entries,
    drops_of_deployed,
    load_packs,
    trim,
    unused_drops,
)


@pytest.fixture(scope="module")
def packs():
    return load_packs()


def _upstream(name):
    file = {"hipaa-security": "Operational-Best-Practices-for-HIPAA-Security.yaml",
            "nist-800-53-r5": "Operational-Best-Practices-for-NIST-800-53-rev-5.yaml"}[name]
    return yaml.safe_load((DIRECTORY / file).read_text())


def test_both_packs_keep_the_rotation_and_logging_rules_and_fit_cloudformation(packs):
    by_name = {pack.name: pack for pack in packs}
    assert set(by_name) == {"hipaa-security", "nist-800-53-r5"}
    for pack in packs:
        kept = {rule.identifier for rule in pack.kept}
        assert {"SECRETSMANAGER_ROTATION_ENABLED_CHECK", "ACCESS_KEYS_ROTATED", "CLOUD_TRAIL_ENABLED",
                "RDS_STORAGE_ENCRYPTED", "S3_BUCKET_SSL_REQUESTS_ONLY", "ALB_WAF_ENABLED"} <= kept
        assert len(pack.body.encode()) <= TEMPLATE_BODY_LIMIT
        assert len(pack.kept) >= 70 and pack.dropped
    assert "CMK_BACKING_KEY_ROTATION_ENABLED" in {rule.identifier for rule in by_name["nist-800-53-r5"].kept}


def test_kept_rules_are_the_published_ones_unchanged_and_nothing_dangles(packs):
    for pack in packs:
        upstream = _upstream(pack.name)
        for rule in pack.kept:
            assert pack.template["Resources"][rule.logical_id] == upstream["Resources"][rule.logical_id]
        referenced = json.dumps(pack.template["Resources"])
        for parameter in pack.template.get("Parameters", {}):
            assert f'"Ref": "{parameter}"' in referenced or parameter in json.dumps(pack.template["Conditions"])
        conditions = set(pack.template.get("Conditions", {}))
        for resource in pack.template["Resources"].values():
            for value in (resource["Properties"].get("InputParameters") or {}).values():
                if isinstance(value, dict) and "Fn::If" in value:
                    assert value["Fn::If"][0] in conditions
                    assert value["Fn::If"][1]["Ref"] in pack.template["Parameters"]


def test_every_drop_is_of_a_service_the_templates_do_not_deploy(packs, synthesized):
    deployed = {resource["Type"] for path in synthesized.outdir.glob("**/*.template.json")
                for resource in json.loads(path.read_text()).get("Resources", {}).values()}
    assert "AWS::S3::Bucket" in deployed and "AWS::RDS::DBInstance" in deployed
    assert drops_of_deployed(packs, deployed) == []
    assert unused_drops(packs, drop_entries()) == []


def test_a_drop_wider_than_an_absent_service_is_caught(packs):
    """A trim entry matching rules of deployed services ("S3_"), or one matching nothing, is reported."""
    wide = (*drop_entries(), Drop(match="S3_", service="not really absent"), Drop(match="RDS_", service="not either"))
    trimmed = tuple(pack.model_copy(update={"dropped": tuple(trim(_upstream(pack.name), wide)[1])})
                    for pack in packs)
    problems = drops_of_deployed(trimmed, {"AWS::S3::Bucket", "AWS::RDS::DBInstance"})
    assert any("S3_BUCKET_SSL_REQUESTS_ONLY" in p and "AWS::S3::Bucket" in p for p in problems)
    assert any("RDS_STORAGE_ENCRYPTED" in p for p in problems)
    assert unused_drops(packs, (Drop(match="FIREHOSE_", service="typo"),)) == [
        "not_deployed entry FIREHOSE_ (typo) drops no rule of any pack"]


@pytest.mark.parametrize("match", ["", "S", "s3_", "*", ".*"])
def test_a_match_that_is_not_an_identifier_or_a_prefix_is_refused(match):
    with pytest.raises(ValueError):
        Drop(match=match, service="something")


def _copy(tmp_path):
    shutil.copytree(DIRECTORY, tmp_path / "conformance")
    return tmp_path / "conformance"


def test_an_edited_template_is_refused_by_its_digest(tmp_path):
    copy = _copy(tmp_path)
    template = copy / "Operational-Best-Practices-for-HIPAA-Security.yaml"
    template.write_text(template.read_text().replace("SourceIdentifier: RDS_STORAGE_ENCRYPTED",
                                                     "SourceIdentifier: RDS_LOGGING_ENABLED"))
    with pytest.raises(ConformanceError, match="not the published template packs.yaml names"):
        load_packs(copy / "packs.yaml")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda text: text.replace("  licence:", "  licensed:"), "must name its"),
    (lambda text: text.replace("sha256: 6d", "sha256: 7d"), "not the published template"),
    (lambda text: text.replace("file: Operational-Best-Practices-for-HIPAA", "file: Missing"), "No such file"),
    (lambda text: text + "\nunknown: 1\n", "unknown"),
])
def test_a_malformed_packs_file_is_a_clear_error(tmp_path, edit, message):
    copy = _copy(tmp_path)
    (copy / "packs.yaml").write_text(edit((copy / "packs.yaml").read_text()))
    with pytest.raises(ConformanceError, match=message):
        load_packs(copy / "packs.yaml")


def test_the_shipped_templates_are_the_cited_upstream_files():
    declared = yaml.safe_load((DIRECTORY / "packs.yaml").read_text())
    assert declared["source"]["licence"].startswith("CC0-1.0")
    assert "CC0 1.0 Universal" in (DIRECTORY / "LICENSE-aws-config-rules").read_text()
    for pack in declared["packs"]:
        assert hashlib.sha256((DIRECTORY / pack["file"]).read_bytes()).hexdigest() == pack["sha256"]
