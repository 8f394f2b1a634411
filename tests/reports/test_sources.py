from __future__ import annotations

import json

import pytest

from policies.nag_controls import NagRule
from reports.model import DuplicateRecord, Record, Source, Status, Where, index
from reports.sources import aspects, cfnlint, checkov, drills, image, junit, load, nag, sbom
from tests.factories import acknowledgment_entry, vulnerability
from tests.reports.conftest import ACK_REASON, nag_finding

PACK_RULES = {"HIPAA.Security": {
    "HIPAA.Security-S3BucketLoggingEnabled": NagRule("HIPAA.Security-S3BucketLoggingEnabled", "s3", ("164.312(b)",)),
    "HIPAA.Security-RDSStorageEncrypted": NagRule("HIPAA.Security-RDSStorageEncrypted", "rds", ("164.312(a)(2)(iv)",)),
    "HIPAA.Security-SageMakerEndpointKMS": NagRule("HIPAA.Security-SageMakerEndpointKMS", "sagemaker", ()),
}}


@pytest.mark.parametrize("collect", [
    lambda g: nag.collect(g.cdk_out, PACK_RULES), lambda g: aspects.collect(g.cdk_out),
    lambda g: checkov.collect(g.cdk_out), lambda g: cfnlint.collect(g.cdk_out),
    lambda g: junit.collect(g.inputs.junit), lambda g: drills.collect(g.inputs.cucumber, g.inputs.measurements),
    lambda g: load.collect(g.inputs.load_gate), lambda g: image.collect(g.inputs.image_gate),
    lambda g: sbom.collect(g.inputs.sbom),
])
def test_a_source_that_did_not_run_is_not_collected_and_has_no_records(gates, collect):
    result = collect(gates)
    assert result.run.collected is False and result.records == ()
    assert "not found" in result.run.note


def test_nag_findings_keep_their_region(gates):
    path = "dev/Data-use1/Logs/Resource"
    gates.synth(violations=[nag_finding("HIPAA.Security-RDSStorageEncrypted", "dev/Data-use2/Logs/Resource")],
                suppressed=[nag_finding("HIPAA.Security-S3BucketLoggingEnabled", path, reason=ACK_REASON)])
    records = {(r.rule, r.where.region): r for r in nag.collect(gates.cdk_out, PACK_RULES).records}
    acknowledged = records[("HIPAA.Security-S3BucketLoggingEnabled", "us-east-1")]
    assert acknowledged.status is Status.ACKNOWLEDGED and acknowledged.where.stack == "Data-use1"
    assert acknowledged.detail == {"reason": "Sink bucket cannot log to itself.", "acknowledgment":
                                   "access-log-sink-buckets-not-logged", "owner": "platform-security",
                                   "expires": "2027-08-31"}
    assert records[("HIPAA.Security-RDSStorageEncrypted", "us-east-2")].status is Status.FAIL


def test_an_unflagged_rule_passes_only_where_its_service_was_synthesized(gates):
    gates.synth()  # dev only, S3 buckets only
    passes = {(r.rule, r.where.env) for r in nag.collect(gates.cdk_out, PACK_RULES).records}
    # No prod (not synthesized), no RDS or SageMaker rule (nothing of theirs to judge): never a pass.
    assert passes == {("HIPAA.Security-S3BucketLoggingEnabled", "dev")}


def test_findings_of_every_pack_are_collected(gates):
    gates.synth()
    report = json.loads((gates.cdk_out / "validation-report.json").read_text())
    report["pluginReports"][0]["suppressedViolations"] = [
        {**nag_finding("AwsSolutions-IAM5[Resource::*]", "dev/Data-use1/Logs/Resource", reason=ACK_REASON)}]
    gates.write(gates.cdk_out / "validation-report.json", report)
    rules = {"AwsSolutions": {"AwsSolutions-IAM5": NagRule("AwsSolutions-IAM5", "iam", ())}, **PACK_RULES}
    records = nag.collect(gates.cdk_out, rules).records
    assert [r.rule for r in records if r.status is Status.ACKNOWLEDGED] == ["AwsSolutions-IAM5[Resource::*]"]


def test_a_report_without_a_pack_is_not_collected(gates):
    gates.synth()
    result = nag.collect(gates.cdk_out, {**PACK_RULES, "PCI.DSS.321": {}})
    assert not result.run.collected and "PCI.DSS.321" in result.run.note


def test_a_guard_error_fails_that_rule_in_that_environment_only(gates):
    error = {"ruleName": "x", "severity": "error", "description": "[Guard-Tags] AWS::S3::Bucket lacks tags",
             "violatingConstructs": [{"constructPath": "dev/Data-use1/Logs/Resource"}]}
    gates.synth(guard_errors=[error])
    statuses = {r.rule: r.status for r in aspects.collect(gates.cdk_out).records}
    assert statuses == {"Guard-Tags": Status.FAIL, "Guard-Encryption": Status.PASS}


def test_the_same_logical_id_in_two_regions_stays_two_records(gates):
    gates.all_static()
    records = checkov.collect(gates.cdk_out).records
    passed = [r for r in records if r.rule == "CKV_AWS_21"]
    assert {r.where.region for r in passed} == {"us-east-1", "us-east-2"}
    assert len(index(list(records))) == len(records)


def test_records_sharing_every_key_part_are_refused():
    record = Record(source=Source.CHECKOV, rule="CKV_AWS_21", status=Status.PASS,
                    where=Where(env="dev", region="us-east-1", stack="Data-use1", resource="Logs"))
    with pytest.raises(DuplicateRecord, match="two results for"):
        index([record, record.model_copy(update={"status": Status.FAIL})])


def test_checkov_skips_carry_the_registry_entry(gates):
    gates.all_static()
    (skipped,) = [r for r in checkov.collect(gates.cdk_out).records if r.status is Status.ACKNOWLEDGED]
    assert skipped.detail["acknowledgment"] == "access-log-sink-buckets-not-logged"


def test_checkov_results_name_their_construct_and_the_collection_still_names_its_file(gates):
    gates.all_static()
    result = checkov.collect(gates.cdk_out)
    assert result.run.inputs == (gates.cdk_out / "checkov.json",)
    paths = {r.where.region: r.detail.get("construct_path") for r in result.records if r.rule == "CKV_AWS_21"}
    assert paths == {"us-east-1": "dev/Data-use1/Logs/Resource", "us-east-2": "dev/Data-use2/Logs/Resource"}


@pytest.mark.parametrize("gate_exit, status", [(0, Status.PASS), (1, Status.FAIL), (2, Status.INCONCLUSIVE),
                                               (None, Status.INCONCLUSIVE)])
def test_the_checkov_gate_verdict_is_a_record_of_its_own(gates, gate_exit, status):
    gates.all_static()
    gates.checkov(passed=[{"check_id": "CKV_AWS_21", "file_path": "x", "resource": "AWS::S3::Bucket.Logs"}],
                  gate_exit=gate_exit)
    (gate,) = [r for r in checkov.collect(gates.cdk_out).records if r.rule == "gate"]
    assert gate.status is status


def test_an_unreadable_result_file_is_not_collected_and_names_the_problem(gates):
    from reports.evidence import collect_all

    gates.all_static()
    gates.write(gates.cdk_out / "checkov.json", "{not json")
    gates.write(gates.cdk_out / "cfn-lint.json", {"findings": [{"rule_id": "E1"}]})
    runs = {c.run.source.value: c.run for c in collect_all(gates.inputs, PACK_RULES)}
    assert not runs["checkov"].collected and "unreadable input (JSONDecodeError" in runs["checkov"].note
    assert not runs["cfn-lint"].collected and "KeyError" in runs["cfn-lint"].note


def test_the_generator_reports_an_unreadable_checkov_result_as_inconclusive(no_printing, gates, tmp_path, capsys,
                                                                           monkeypatch):
    import reports.__main__ as cli

    gates.all_static()
    gates.write(gates.cdk_out / "checkov.json", "{not json")
    monkeypatch.chdir(gates.root)
    assert cli.main(["--out", str(tmp_path / "out"), "--cdk-out", str(gates.cdk_out)]) == 2
    assert "(required: checkov)" in capsys.readouterr().out


def test_cfn_lint_fails_a_template_with_an_error_and_lists_warnings(gates):
    gates.synth()
    gates.cfn_lint([{"rule_id": "E3012", "template": "assembly-dev/devData-use2.template.json", "line": 9,
                     "message": "wrong type"},
                    {"rule_id": "W3005", "template": "assembly-dev/devData-use1.template.json", "line": 3,
                     "message": "redundant"}])
    records = {r.where.region: r for r in cfnlint.collect(gates.cdk_out).records}
    assert records["us-east-2"].status is Status.FAIL and records["us-east-2"].detail["errors"][0].startswith("E3012")
    assert records["us-east-1"].status is Status.PASS and records["us-east-1"].detail["warnings"] == ["W3005"]


def test_junit_cases_become_records(gates):
    gates.write(gates.inputs.junit, """<?xml version="1.0"?><testsuites><testsuite name="pytest">
      <testcase classname="tests.a" name="test_ok" time="0.1"/>
      <testcase classname="tests.a" name="test_bad"><failure message="no"/></testcase>
      <testcase classname="tests.a" name="test_skip"><skipped message="later"/></testcase>
    </testsuite></testsuites>""")
    statuses = {r.rule: r.status for r in junit.collect(gates.inputs.junit).records}
    assert statuses == {"tests.a::test_ok": Status.PASS, "tests.a::test_bad": Status.FAIL,
                        "tests.a::test_skip": Status.INCONCLUSIVE}


def test_junit_that_is_not_xml_is_not_collected(gates):
    gates.write(gates.inputs.junit, "not xml")
    assert not junit.collect(gates.inputs.junit).run.collected


def test_a_folder_of_junit_shards_is_read_whole(tmp_path):
    shards = tmp_path / "out"
    shards.mkdir()
    for shard, outcome in (("infrastructure", ""), ("runtime", '<failure message="no"/>')):
        (shards / f"junit-{shard}.xml").write_text(
            f'<testsuites><testsuite><testcase classname="tests.{shard}" name="test_x">{outcome}</testcase>'
            "</testsuite></testsuites>")
    collected = junit.collect(shards)
    assert {r.rule: r.status for r in collected.records} == {"tests.infrastructure::test_x": Status.PASS,
                                                               "tests.runtime::test_x": Status.FAIL}
    assert [p.name for p in collected.run.inputs] == ["junit-infrastructure.xml", "junit-runtime.xml"]


@pytest.mark.parametrize("content, reason", [(None, "holds no JUnit XML files"), ("<x", "is not JUnit XML"),
                                             ("<testsuites/>", "holds no test cases")])
def test_a_junit_folder_without_cases_is_not_collected(tmp_path, content, reason):
    if content is not None:
        (tmp_path / "junit-a.xml").write_text(content)
    collected = junit.collect(tmp_path)
    assert not collected.run.collected and reason in collected.run.note


def test_drill_scenarios_and_measurements(gates):
    steps = lambda *s: [{"result": {"status": x}} for x in s]  # noqa: E731
    gates.write(gates.inputs.cucumber, [{"uri": "features/failover.feature", "name": "Failover", "elements": [
        {"name": "primary lost", "steps": steps("passed", "passed")},
        {"name": "writes resume", "steps": steps("passed", "failed", "skipped")},
        {"name": "not run", "steps": steps("skipped")},
        {"name": "outline", "id": "test_outline[v2-10]", "steps": steps("passed")},
        {"name": "outline", "id": "test_outline[v3-25]", "steps": steps("failed")}]}])
    gates.write(gates.inputs.measurements, {"measurements": [
        {"feature": "failover", "scenario": "primary lost", "metric": "rto_seconds", "observed": 12.5,
         "threshold": 900, "comparison": "<=", "unit": "s", "verdict": "pass"}]})
    records = {r.where.resource + "/" + r.rule: r for r in drills.collect(gates.inputs.cucumber,
                                                                          gates.inputs.measurements).records}
    assert records["primary lost/failover"].status is Status.PASS
    assert records["writes resume/failover"].status is Status.FAIL
    assert records["not run/failover"].status is Status.INCONCLUSIVE
    assert records["outline [v2-10]/failover"].status is Status.PASS  # examples of one outline stay apart
    assert records["outline [v3-25]/failover"].status is Status.FAIL
    assert records["primary lost/failover.rto_seconds"].detail["observed"] == 12.5


def test_load_metrics_become_records(gates):
    gates.write(gates.inputs.load_gate, {"environment": "dev", "host": "http://127.0.0.1:1", "window": {"duration_s": 20},
                                         "metrics": [{"metric": "p99_ms", "endpoint": "read", "comparison": "<=",
                                                      "threshold": 800, "observed": 55, "status": "pass"},
                                                     {"metric": "requests", "endpoint": "write", "comparison": ">=",
                                                      "threshold": 20, "observed": 3, "status": "inconclusive"}]})
    records = {r.rule: r for r in load.collect(gates.inputs.load_gate).records}
    assert records["p99_ms"].status is Status.PASS and records["p99_ms"].detail["threshold"] == 800
    assert records["requests"].status is Status.INCONCLUSIVE
    assert records["verdict"].status is Status.INCONCLUSIVE  # the gate wrote no verdict


def test_a_load_run_that_judged_nothing_is_not_collected(gates):
    gates.write(gates.inputs.load_gate, json.dumps({"verdict": "inconclusive", "metrics": []}))
    assert not load.collect(gates.inputs.load_gate).run.collected


def test_image_findings_block_or_carry_their_acknowledgment_and_lesser_ones_are_counted(gates):
    accepted = acknowledgment_entry(id="zlib-inflate", rules=["image::CVE-2026-1111"], paths=["zlib*"],
                                    owner="records-team", expires="2027-01-31")
    assert gates.image(vulnerability("CVE-2026-1111", "HIGH"), vulnerability("CVE-2026-2222", "CRITICAL", "openssl"),
                       vulnerability("CVE-2026-3333", "MEDIUM"), entries=(accepted,)) == 1
    records = {r.rule: r for r in image.collect(gates.inputs.image_gate).records}
    verdict = records["vulnerabilities"]
    assert verdict.status is Status.FAIL and verdict.where == Where(env="dev", resource="records-service:abc123")
    assert verdict.detail["counts"] == {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 1, "LOW": 0}
    blocking = records["vulnerabilities[CVE-2026-2222]"]
    assert blocking.status is Status.FAIL and blocking.where.resource == "openssl"
    accepted_record = records["vulnerabilities[CVE-2026-1111]"]
    assert accepted_record.status is Status.ACKNOWLEDGED
    assert {k: accepted_record.detail[k] for k in ("acknowledgment", "owner", "expires")} == {
        "acknowledgment": "zlib-inflate", "owner": "records-team", "expires": "2027-01-31"}
    assert "vulnerabilities[CVE-2026-3333]" not in records  # MEDIUM never blocks: counted, not judged


def test_an_image_without_blocking_findings_passes(gates):
    assert gates.image(vulnerability("CVE-2026-3333", "LOW")) == 0
    (verdict,) = image.collect(gates.inputs.image_gate).records
    assert verdict.status is Status.PASS


def test_an_sbom_counts_its_components_and_an_empty_one_proves_nothing(gates):
    gates.sbom(components=3)
    (record,) = sbom.collect(gates.inputs.sbom).records
    assert record.status is Status.PASS and record.detail["components"] == 3
    assert record.detail["by_type"] == {"library": 3} and record.where.resource == "records-service:abc123"
    gates.sbom(components=0)
    (record,) = sbom.collect(gates.inputs.sbom).records
    assert record.status is Status.INCONCLUSIVE


def test_an_sbom_that_is_not_cyclonedx_or_an_image_verdict_without_counts_is_not_collected(gates):
    from reports.evidence import collect_all

    gates.all_static()
    gates.sbom(bom_format="SPDX")
    gates.write(gates.inputs.image_gate, {"exit_code": 0})
    runs = {c.run.source.value: c.run for c in collect_all(gates.inputs, PACK_RULES)}
    assert not runs["sbom"].collected and "not a CycloneDX JSON document" in runs["sbom"].note
    assert not runs["image"].collected and "KeyError" in runs["image"].note


@pytest.mark.parametrize("tamper, problem", [
    (lambda gate: gate | {"exit_code": 0}, "exit code 0 with 1 blocking findings"),
    (lambda gate: gate | {"counts": {**gate["counts"], "CRITICAL": 5}},
     "5 HIGH/CRITICAL findings counted, but 1 blocking and 0 acknowledged listed"),
    (lambda gate: gate | {"blocking": [], "exit_code": 0},
     "1 HIGH/CRITICAL findings counted, but 0 blocking and 0 acknowledged listed"),
])
def test_an_image_verdict_that_contradicts_its_findings_is_inconclusive(gates, tamper, problem):
    gates.image(vulnerability("CVE-2026-2222", "CRITICAL", "openssl"))
    gate = json.loads(gates.inputs.image_gate.read_text())
    gates.write(gates.inputs.image_gate, tamper(gate))
    verdict = next(r for r in image.collect(gates.inputs.image_gate).records if r.rule == image.RULE)
    assert verdict.status is Status.INCONCLUSIVE and verdict.detail["problem"] == problem


def test_an_sbom_with_components_without_names_is_inconclusive(gates):
    gates.sbom(components=2)
    bom = json.loads(gates.inputs.sbom.read_text())
    gates.write(gates.inputs.sbom, bom | {"components": [*bom["components"], {"type": "library"}]})
    (record,) = sbom.collect(gates.inputs.sbom).records
    assert record.status is Status.INCONCLUSIVE and (record.detail["components"], record.detail["unnamed"]) == (2, 1)


def test_an_sbom_of_another_image_than_the_one_scanned_proves_nothing(gates):
    from reports.evidence import collect_all

    gates.all_static()
    gates.image(vulnerability("CVE-2026-3333", "LOW"))
    gates.sbom()
    found = {c.run.source.value: c for c in collect_all(gates.inputs, PACK_RULES)}
    assert found["sbom"].records[0].status is Status.PASS  # records-service:abc123 both
    bom = json.loads(gates.inputs.sbom.read_text())
    bom["metadata"]["component"]["name"] = "records-service:0ld5ha"
    gates.write(gates.inputs.sbom, bom)
    (record,) = {c.run.source.value: c for c in collect_all(gates.inputs, PACK_RULES)}["sbom"].records
    assert record.status is Status.INCONCLUSIVE
    assert record.detail["problem"] == ("an inventory of records-service:0ld5ha, but the image gate judged "
                                        "records-service:abc123")
