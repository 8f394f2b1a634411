from __future__ import annotations

import datetime as dt
import json

import pytest

from aspects.nag import PACKS, AppliedAcknowledgment
from gates.suppressions import Assembly
from gates.synth import ReportMissing, judge_report, load_report
from policies.acknowledgments import AcknowledgmentEntry

ENTRY = AcknowledgmentEntry(
    id="public-alb",
    rules=("AwsSolutions::AwsSolutions-EC23",),
    paths=("*/Alb/SecurityGroup/Resource",),
    reason="The ALB is the public entry point and must accept HTTPS.",
    owner="net",
    expires=dt.date(2027, 1, 1),
    accepts=1,
)
APPLIED = [AppliedAcknowledgment(ENTRY, "dev", ("dev/Service-use1/Alb/SecurityGroup/Resource",))]
NO_ASSEMBLY_RECORDS = Assembly(resources={}, acknowledgments={})


def judge(document, applied=()):
    return judge_report(document, list(applied), NO_ASSEMBLY_RECORDS)


def report(violations=(), suppressed=(), plugin="AwsSolutions", packs=PACKS):
    """Every pack reports (empty unless it is ``plugin``); ``plugin`` carries the given findings."""
    reports = [{"pluginName": p, "violations": [], "suppressedViolations": []} for p in packs if p != plugin]
    return {"pluginReports": reports + [
        {"pluginName": plugin, "violations": list(violations), "suppressedViolations": list(suppressed)}]}


def violation(rule="AwsSolutions-S1", severity="error", path="dev/X/Bucket/Resource"):
    return {"ruleName": rule, "severity": severity, "description": "bad", "violatingConstructs": [{"constructPath": path}]}


SUPPRESSED = {"acknowledgedId": "AwsSolutions::AwsSolutions-EC23", "acknowledgedAt": "dev/Service-use1/Alb/SecurityGroup/Resource",
              "reason": f"{ENTRY.reason} {ENTRY.marker}"}


def test_clean_report_with_used_acknowledgment_passes():
    verdict = judge(report(suppressed=[SUPPRESSED]), APPLIED)
    assert verdict.passed and verdict.acknowledged_per_pack == {"AwsSolutions": 1}
    assert verdict.acknowledged_per_entry == {"public-alb": {"dev": 1}}


def test_any_nag_finding_blocks_even_a_warning():
    verdict = judge(report([violation(severity="warning")], [SUPPRESSED]), APPLIED)
    assert not verdict.passed
    assert verdict.violations == ["AwsSolutions: AwsSolutions-S1 at dev/X/Bucket/Resource: bad"]


def test_validator_warnings_inform_but_errors_block():
    warning = judge(report([violation("W3010", "warning")], plugin="CloudFormation Validate"), [])
    assert warning.passed and len(warning.warnings) == 1
    error = judge(report([violation("E3025", "error")], plugin="CloudFormation Validate"), [])
    assert not error.passed


def test_construct_errors_from_guards_block():
    verdict = judge(report([violation("Annotation::error-annotation")], plugin="Construct Annotations"), [])
    assert not verdict.passed


def test_acknowledgment_that_suppressed_nothing_fails():
    verdict = judge(report(), APPLIED)
    assert not verdict.passed
    assert verdict.unused == [
        "acknowledgment 'public-alb' rule AwsSolutions::AwsSolutions-EC23 suppressed nothing in 'dev'; "
        "the finding is fixed, so remove the rule from the entry"
    ]


def test_suppression_elsewhere_does_not_count_as_use():
    elsewhere = {**SUPPRESSED, "acknowledgedAt": "dev/Other/Thing/Resource"}
    verdict = judge(report(suppressed=[elsewhere]), APPLIED)
    assert verdict.unused and not verdict.passed
    assert verdict.registry_problems[0] == (
        "dev/Other/Thing/Resource: AwsSolutions::AwsSolutions-EC23 suppressed outside the registry (it names entry "
        "'public-alb', whose paths do not match dev/Other/Thing/Resource)")


def test_suppression_in_another_environment_does_not_keep_an_entry_alive():
    in_prod = {**SUPPRESSED, "acknowledgedAt": "prod/Service-use1/Alb/SecurityGroup/Resource"}
    verdict = judge(report(suppressed=[in_prod]), APPLIED)
    (line,) = verdict.unused
    assert "in 'dev'" in line
    assert "names entry 'public-alb', which does not apply there" in verdict.registry_problems[0]


def test_report_without_every_pack_is_not_judged():
    verdict = judge(report(packs=("AwsSolutions",)), [])
    assert not verdict.judged and not verdict.passed
    assert verdict.missing_packs == ["HIPAA.Security", "NIST.800.53.R5"]


def test_empty_report_is_not_a_pass():
    assert not judge({"pluginReports": []}, []).passed


def test_missing_report_cannot_be_judged(tmp_path):
    with pytest.raises(ReportMissing):
        load_report(tmp_path)
    (tmp_path / "validation-report.json").write_text("{not json")
    with pytest.raises(ReportMissing):
        load_report(tmp_path)


def test_report_is_read_from_the_assembly(tmp_path):
    (tmp_path / "validation-report.json").write_text(json.dumps(report()))
    assert {p["pluginName"] for p in load_report(tmp_path)["pluginReports"]} == set(PACKS)
