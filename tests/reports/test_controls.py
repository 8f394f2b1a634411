from __future__ import annotations

import datetime as dt

import pytest

from policies.attestations import Attestation
from policies.catalog import Catalog, Control
from reports.controls import GAP, control_matrix, matches
from reports.model import Record, Source, Status, Where


def _record(source: Source, rule: str, status: Status = Status.PASS, region: str = "us-east-1") -> Record:
    return Record(source=source, rule=rule, status=status, where=Where(env="dev", region=region))


def _catalog(*controls: Control) -> dict[str, Catalog]:
    return {"X": Catalog(framework="Test", reference="r", nag_pack="X", derived_from="t", controls=controls)}


@pytest.mark.parametrize("reference, rule, expected", [
    ("failover", "failover", True), ("failover", "failover.rto_seconds", True), ("failover", "failover_slow", False),
    ("AwsSolutions-IAM5", "AwsSolutions-IAM5[Resource::*]", True), ("tests.stacks", "tests.stacks.test_a::t", True),
    ("tests.stacks", "tests.stacksx::t", False),
])
def test_a_reference_covers_the_rules_below_it(reference, rule, expected):
    assert matches(reference, rule) is expected


def test_control_statuses_fail_first_then_missing_evidence_then_acknowledged():
    control = Control(id="CP-4", title="Contingency Plan Testing", nag=("N-1",),
                      evidence=("checkov:CKV_1", "drill:failover"))
    records = [_record(Source.NAG, "N-1", Status.ACKNOWLEDGED), _record(Source.CHECKOV, "CKV_1")]
    collected = {"nag": True, "checkov": True, "drill": False}
    (result,) = control_matrix(_catalog(control), records, collected)
    assert result.status == "not-collected"
    assert [r.status for r in result.references] == [Status.ACKNOWLEDGED, Status.PASS, Status.NOT_COLLECTED]
    failing = [*records, _record(Source.CHECKOV, "CKV_1", Status.FAIL, region="us-east-2")]
    (result,) = control_matrix(_catalog(control), failing, collected)
    assert result.status == "fail" and result.references[1].counts == {"pass": 1, "fail": 1}
    (result,) = control_matrix(_catalog(control), records, {**collected, "drill": True})
    assert result.status == "inconclusive"  # drills ran, but none of them is about failover


def test_nag_rules_with_nothing_to_judge_are_not_applicable_and_do_not_count():
    control = Control(id="SC-28", title="Protection of Information at Rest", nag=("N-rds", "N-sagemaker"))
    records = [_record(Source.NAG, "N-rds")]
    (result,) = control_matrix(_catalog(control), records, {"nag": True})
    assert [r.status for r in result.references] == [Status.PASS, Status.NOT_APPLICABLE]
    assert result.status == "pass"
    (result,) = control_matrix(_catalog(control), [], {"nag": True})
    assert result.status == "not-applicable"


def test_a_control_without_any_evidence_source_is_a_gap():
    (result,) = control_matrix(_catalog(Control(id="SC-28", title="Protection of Information at Rest")), [], {})
    assert result.status == GAP and result.references == () and result.assessment == "automated"


TODAY = dt.date(2026, 12, 5)
TRAINING = Control(id="AT-2", title="Literacy Training and Awareness", evidence=("aspect:Guard-Tls",))
PLAN = Control(id="CP-4", title="Contingency Plan Testing", evidence=("drill:failover",))


def _attestation(**overrides) -> Attestation:
    return Attestation.model_validate({
        "id": "training-2026", "status": "attested", "controls": ["X:AT-2", "X:CP-4"],
        "statement": "Everyone with access completed the yearly training.",
        "attested_by": {"role": "Security Officer", "name": "A. Person"}, "attested_on": "2026-11-01",
        "expires": "2027-10-31", "artifact": {"path": "README.md", "sha256": "0" * 64}, **overrides})


@pytest.mark.parametrize("attestations, status", [
    ((), "needs-attestation"),
    ((_attestation(status="example"),), "needs-attestation"),  # an example never counts
    ((_attestation(attested_on="2025-10-01", expires="2026-09-30"),), "stale"),
    ((_attestation(),), "pass"),
])
def test_a_procedural_control_passes_only_on_an_unexpired_attestation(attestations, status):
    # Its automated reference passes, and is shown as supporting: it never makes the control pass.
    records = [_record(Source.ASPECT, "Guard-Tls")]
    (result,) = control_matrix(_catalog(TRAINING), records, {"aspect": True}, attestations, TODAY)
    assert result.assessment == "procedural" and result.status == status
    assert result.references[0].supporting and result.references[0].status is Status.PASS


@pytest.mark.parametrize("drill, attestations, status", [
    (Status.PASS, (), "needs-attestation"),
    (Status.PASS, (_attestation(),), "pass"),
    (Status.FAIL, (_attestation(),), "fail"),
    (None, (_attestation(),), "not-collected"),  # the automated half is missing
    (Status.PASS, (_attestation(attested_on="2025-10-01", expires="2026-09-30"),), "stale"),
])
def test_a_hybrid_control_needs_both_halves(drill, attestations, status):
    records = [_record(Source.DRILL, "failover", drill)] if drill else []
    (result,) = control_matrix(_catalog(PLAN), records, {"drill": drill is not None}, attestations, TODAY)
    assert result.assessment == "hybrid" and result.status == status
    assert not result.references[0].supporting


def test_a_failing_supporting_check_fails_a_procedural_control_however_it_is_attested():
    records = [_record(Source.ASPECT, "Guard-Tls", Status.FAIL)]
    (result,) = control_matrix(_catalog(TRAINING), records, {"aspect": True}, (_attestation(),), TODAY)
    assert result.references[0].supporting and result.status == "fail"


def test_a_hybrid_control_with_nothing_automated_to_judge_still_needs_its_attestation():
    plan = Control(id="CP-4", title="Contingency Plan Testing", nag=("X-RedshiftBackupEnabled",))
    (result,) = control_matrix(_catalog(plan), [], {"nag": True}, (), TODAY)
    assert result.references[0].status is Status.NOT_APPLICABLE and result.status == "needs-attestation"
    (result,) = control_matrix(_catalog(plan), [], {"nag": True}, (_attestation(),), TODAY)
    assert result.status == "pass"


def test_all_passing_references_pass():
    control = Control(id="SC-8", title="Transmission", evidence=("aspect:Guard-Tls",))
    (result,) = control_matrix(_catalog(control), [_record(Source.ASPECT, "Guard-Tls")], {"aspect": True})
    assert result.status == "pass"


def test_a_soc2_criterion_takes_the_automated_half_of_the_nist_controls_it_relies_on():
    nist = Catalog(framework="NIST", reference="r", nag_pack="NIST.800.53.R5", derived_from="t",
                   controls=(Control(id="SC-8", title="Transmission", evidence=("aspect:Guard-Tls",)),
                             Control(id="MP-2", title="Media Access")))
    soc2 = Catalog(framework="SOC 2", reference="r", nag_pack="SOC2", derived_from="t",
                   controls=(Control(id="CC6.7", title="Transmission is protected", relies_on=("SC-8",)),
                             Control(id="C1.2", title="Disposal as committed", relies_on=("MP-2",))))
    records = [_record(Source.ASPECT, "Guard-Tls", Status.FAIL)]
    results = control_matrix({"NIST.800.53.R5": nist, "SOC2": soc2}, records, {"aspect": True}, (), TODAY)
    by_id = {r.id: r for r in results}
    assert by_id["CC6.7"].status == "fail" and by_id["CC6.7"].references[0].reference == "nist:SC-8"
    # MP-2 has no automated evidence: nothing carries over, and the criterion's attestation must cover it.
    assert by_id["C1.2"].status == "gap" and by_id["C1.2"].references == ()
    assert by_id["C1.2"].attest_relied_on == ("nist:MP-2",)


def test_a_procedural_nist_controls_checks_only_support_the_criteria_that_rely_on_it():
    nist = Catalog(framework="NIST", reference="r", nag_pack="NIST.800.53.R5", derived_from="t",
                   controls=(Control(id="MP-2", title="Media Access", evidence=("aspect:Guard-Encryption",)),))
    soc2 = Catalog(framework="SOC 2", reference="r", nag_pack="SOC2", derived_from="t",
                   controls=(Control(id="CC6.5", title="Disposal", relies_on=("MP-2",)),))
    catalogs = {"NIST.800.53.R5": nist, "SOC2": soc2}
    attested = (_attestation(controls=["SOC2:CC6.5"]),)
    passing = [_record(Source.ASPECT, "Guard-Encryption")]
    by_id = {r.id: r for r in control_matrix(catalogs, passing, {"aspect": True}, attested, TODAY)}
    (carried,) = by_id["CC6.5"].references
    assert carried.supporting and carried.status is Status.PASS
    assert by_id["CC6.5"].status == "gap"  # an attestation alone never passes a hybrid criterion
    failing = [_record(Source.ASPECT, "Guard-Encryption", Status.FAIL)]
    by_id = {r.id: r for r in control_matrix(catalogs, failing, {"aspect": True}, attested, TODAY)}
    assert by_id["CC6.5"].status == "fail"
