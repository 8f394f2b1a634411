from __future__ import annotations

import json
import shutil

import pytest

from gates import checkov as checkov_gate
from gates import custody
from gates.assembly import shards
from gates.checkov import judge, merge
from policies.acknowledgments import parse_registry
from tests.factories import acknowledgment_entry

ACK = "[ack log-sink; owner platform; review by 2027-01-31]"
REGISTRY = parse_registry([acknowledgment_entry(id="log-sink", rules=["checkov::CKV_AWS_18"],
                                                paths=["*/Svc/Logs/Resource"])])
TEMPLATE = "assembly-dev/devSvc.template.json"
PATHS = {(TEMPLATE, "Logs"): "dev/Svc/Logs/Resource", (TEMPLATE, "PatientData"): "dev/Svc/PatientData/Resource"}
STILL_FAILS = {(TEMPLATE, "Logs", "CKV_AWS_18"): "failed", (TEMPLATE, "PatientData", "CKV_AWS_18"): "failed"}


def _item(check_id: str, resource: str = "AWS::S3::Bucket.Logs", comment: str | None = None) -> dict:
    item = {"check_id": check_id, "check_name": "Ensure something", "resource": resource,
            "file_path": f"/{TEMPLATE}"}
    if comment is not None:
        item["check_result"] = {"result": "SKIPPED", "suppress_comment": comment}
    return item


def _report(passed=(), failed=(), skipped=(), parsing_errors=(), resources: int = 3) -> dict:
    return {"results": {"passed_checks": list(passed), "failed_checks": list(failed),
                        "skipped_checks": list(skipped), "parsing_errors": list(parsing_errors)},
            "summary": {"passed": len(passed), "failed": len(failed), "skipped": len(skipped),
                        "resource_count": resources}}


def test_prod_templates_pass_with_every_custom_check_reporting(checkov_gate_runs, synthesized, tmp_path, capsys):
    outdir = tmp_path / "cdk.out"
    shutil.copytree(synthesized.outdir / "assembly-prod", outdir)
    custody.record(outdir, commit="prod-only", passed=True)  # synth's record, for this one environment's copy
    assert checkov_gate.main([str(outdir)]) == 0
    line = capsys.readouterr().out.strip()
    custom = len(checkov_gate.custom_check_ids())
    assert line.startswith("checkov: PASS: 28 templates,") and f"custom checks with results {custom}/{custom}" in line
    assert "(0 skip problems)" in line
    merged = json.loads((outdir / "checkov.json").read_text())
    assert merged["summary"]["failed"] == 0 and merged["results"]["skipped_checks"]
    assert merged["gate"]["exit_code"] == 0


def test_a_non_compliant_template_and_an_inline_skip_fail_the_gate(checkov_gate_runs, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CKV_SKIP_CHECK", "CKV_AWS_18,CKV_AWS_53")  # checkov would honour it; the gate does not
    bucket = {"Type": "AWS::S3::Bucket", "Properties": {}}
    template = {"Resources": {
        "Plain": bucket,
        "Excused": {**bucket, "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_18", "comment": "trust me"}]}}},
    }}
    (tmp_path / "Bad.template.json").write_text(json.dumps(template))
    custody.record(tmp_path, commit="test", passed=True)
    assert checkov_gate.main([str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("checkov: FAIL: 1 templates")
    assert "CKV_AWS_18 at Plain (Bad.template.json:Plain)" in captured.err
    assert "CKV_AWS_18 skipped at Excused (Bad.template.json:Excused) without a registry entry" in captured.err


def test_no_templates_is_inconclusive(tmp_path, capsys):
    assert checkov_gate.main([str(tmp_path)]) == 2
    assert "INCONCLUSIVE: no templates" in capsys.readouterr().err


def test_missing_checkov_is_inconclusive_and_leaves_no_earlier_result(tmp_path, capsys, monkeypatch):
    (tmp_path / "A.template.json").write_text(json.dumps({"Resources": {}}))
    custody.record(tmp_path, commit="test", passed=True)
    (tmp_path / "checkov.json").write_text(json.dumps({"gate": {"exit_code": 0}}))
    monkeypatch.setenv("CHECKOV", str(tmp_path / "nowhere" / "checkov"))
    assert checkov_gate.main([str(tmp_path)]) == 2
    assert "run `make setup`" in capsys.readouterr().err
    assert not (tmp_path / "checkov.json").exists()


def _judge(report: dict, recheck=STILL_FAILS, **options):
    return judge(report, REGISTRY, templates=1, custom_ids=[], paths=PATHS, recheck=recheck, **options)


def test_a_registry_skip_that_still_excuses_a_failure_passes():
    verdict = _judge(_report(skipped=[_item("CKV_AWS_18", comment=f"sink {ACK}")]))
    assert verdict.exit_code == 0 and verdict.skip_problems == []


def test_a_skip_citing_an_entry_that_does_not_grant_that_check_fails():
    verdict = _judge(_report(skipped=[_item("CKV_AWS_21", comment=f"sink {ACK}")]))
    assert verdict.exit_code == 1
    assert verdict.skip_problems[0].startswith("CKV_AWS_21 skipped at dev/Svc/Logs/Resource")
    assert "acknowledgment 'log-sink' rule checkov::CKV_AWS_18 was applied to no resource" in verdict.skip_problems[1]


def test_a_copied_marker_on_a_resource_outside_the_entry_paths_fails():
    forged = _item("CKV_AWS_18", resource="AWS::S3::Bucket.PatientData", comment=f"copied {ACK}")
    verdict = _judge(_report(skipped=[_item("CKV_AWS_18", comment=ACK), forged]))
    (problem,) = verdict.skip_problems
    assert "dev/Svc/PatientData/Resource" in problem and "whose paths do not cover it" in problem


@pytest.mark.parametrize("outcome, says", [("passed", "the check passes"), (None, "the check does not apply")])
def test_a_skip_the_resource_no_longer_needs_fails(outcome, says):
    recheck = {(TEMPLATE, "Logs", "CKV_AWS_18"): outcome} if outcome else {}
    verdict = _judge(_report(skipped=[_item("CKV_AWS_18", comment=ACK)]), recheck=recheck)
    (problem,) = verdict.skip_problems
    assert problem.startswith("acknowledgment 'log-sink' rule checkov::CKV_AWS_18 skips nothing") and says in problem


def test_a_check_that_crashed_on_a_resource_makes_the_run_inconclusive():
    verdict = _judge(_report(skipped=[_item("CKV_AWS_18", comment=ACK)]),
                     check_errors=["Failed to run check CKV_RECORDS_ELB_1 on /a.template.json:AWS::X.Y"])
    assert verdict.exit_code == 2 and "Failed to run check" in verdict.parsing_errors[0]


def test_a_config_that_selects_or_excuses_checks_is_refused(tmp_path):
    config = tmp_path / ".checkov.yaml"
    config.write_text("framework: [cloudformation]\nskip-check: [CKV_AWS_18]\n")
    with pytest.raises(checkov_gate.CheckovUnavailable, match=r"sets \['skip-check'\]"):
        checkov_gate.checked_config(config)
    assert checkov_gate.checked_config() == checkov_gate.CONFIG_FILE


def test_a_custom_check_without_results_makes_the_run_inconclusive():
    verdict = judge(_report(passed=[_item("CKV_RECORDS_ECS_1")], skipped=[_item("CKV_AWS_18", comment=ACK)]),
                    REGISTRY, templates=1, custom_ids=["CKV_RECORDS_ECS_1", "CKV_RECORDS_RDS_1"], paths=PATHS,
                    recheck=STILL_FAILS)
    assert verdict.exit_code == 2 and verdict.missing_custom == ["CKV_RECORDS_RDS_1"]
    assert "INCONCLUSIVE" in checkov_gate.summary_line(verdict, ["CKV_RECORDS_ECS_1", "CKV_RECORDS_RDS_1"])


@pytest.mark.parametrize("report", [_report(parsing_errors=["/a.template.json"]), _report(resources=0)])
def test_unparsed_templates_or_no_resources_are_inconclusive(report):
    empty = parse_registry([])
    assert judge(report, empty, templates=1, custom_ids=[]).exit_code == 2


def test_a_failure_is_a_verdict_even_when_a_custom_check_is_missing():
    verdict = judge(_report(failed=[_item("CKV_AWS_18")]), parse_registry([]), templates=1,
                    custom_ids=["CKV_RECORDS_ECS_1"])
    assert verdict.exit_code == 1


def test_shard_reports_merge_into_one():
    merged = merge([_report(passed=[_item("A")], resources=2), _report(failed=[_item("B")], resources=1),
                    {"passed": 0, "summary": {"resource_count": 0}}])
    assert merged["summary"]["resource_count"] == 3 and merged["summary"]["passed"] == 1
    assert [i["check_id"] for i in merged["results"]["failed_checks"]] == ["B"]


def test_templates_are_split_by_size(tmp_path):
    sizes = {"a": 900, "b": 500, "c": 400, "d": 100}
    for name, size in sizes.items():
        (tmp_path / f"{name}.template.json").write_text("x" * size)
    groups = shards(sorted(tmp_path.iterdir()), 2)
    assert sorted(sum(p.stat().st_size for p in g) for g in groups) == [900, 1000]
    assert shards(sorted(tmp_path.iterdir())[:1], 4) == [[sorted(tmp_path.iterdir())[0]]]


def test_a_registry_skip_on_a_resource_that_now_passes_is_stale(checkov_gate_runs, tmp_path, capsys):
    # The real registry's sink-bucket entry, on a bucket that does log its access: the skip excuses nothing.
    marker = "[ack access-log-sink-buckets-not-logged; owner platform-security; review by 2027-08-31]"
    bucket = {"Type": "AWS::S3::Bucket",
              "Properties": {"LoggingConfiguration": {"DestinationBucketName": "elsewhere"}},
              "Metadata": {"aws:cdk:path": "dev/Operations/ServerAccessLogs/Resource",
                           "checkov": {"skip": [{"id": "CKV_AWS_18", "comment": f"sink {marker}"}]}}}
    (tmp_path / "Ops.template.json").write_text(json.dumps({"Resources": {"ServerAccessLogs": bucket}}))
    custody.record(tmp_path, commit="test", passed=True)
    assert checkov_gate.main([str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert ("acknowledgment 'access-log-sink-buckets-not-logged' rule checkov::CKV_AWS_18 skips nothing at "
            "dev/Operations/ServerAccessLogs/Resource") in err and "the check passes there" in err


def test_skipped_resources_are_copied_without_their_skips_and_split_back(tmp_path):
    outdir, scratch = tmp_path / "cdk.out", tmp_path / "scratch"
    (outdir / "assembly-dev").mkdir(parents=True)
    scratch.mkdir()
    skip = {"checkov": {"skip": [{"id": "CKV_AWS_18", "comment": ACK}]}, "aws:cdk:path": "dev/Svc/Logs/Resource"}
    template = outdir / "assembly-dev" / "devSvc.template.json"
    template.write_text(json.dumps({"Resources": {"Logs": {"Type": "AWS::S3::Bucket", "Metadata": skip},
                                                  "Data": {"Type": "AWS::S3::Bucket"}}}))
    copies = checkov_gate.skipped_resources([template], outdir, scratch)
    ((copy, original),) = copies.items()
    assert original == TEMPLATE
    assert json.loads(copy.read_text()) == {"Resources": {"Logs": {"Type": "AWS::S3::Bucket", "Metadata": {
        "aws:cdk:path": "dev/Svc/Logs/Resource"}}}}
    report = merge([_report(passed=[_item("CKV_AWS_21")], failed=[{**_item("CKV_AWS_18"), "file_path": f"/{copy.name}"}])])
    outcomes = checkov_gate.split_rechecks(report, copies)
    assert outcomes == {(TEMPLATE, "Logs", "CKV_AWS_18"): "failed"}
    assert report["results"]["failed_checks"] == [] and len(report["results"]["passed_checks"]) == 1
