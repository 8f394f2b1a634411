"""The RTO/RPO budget gate: the real templates pass with the line the README quotes; a configuration whose
detection is too slow fails naming the term; a missing input is inconclusive, never a pass."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gates import custody
from gates.resilience import __main__ as gate
from gates.resilience.model import Budget, Term
from gates.resilience.runbooks import RunbookError, recovery_steps
from gates.resilience.templates import Assembly, MissingInput, capacity, schedule_interval_s
from policies.resilience import ResilienceError, load_resilience
from stacks.config import CDK_JSON, load_config
from tests.conftest import synthesize

ROOT = Path(__file__).resolve().parents[2]


def run_gate(outdir: Path, **kwargs: Any) -> tuple[int, str]:
    output, errors = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(errors):
        code = gate.main([str(outdir)], **kwargs)
    return code, (output.getvalue() + errors.getvalue()).strip()


@pytest.fixture(scope="module")
def judged(synthesized, tmp_path_factory) -> tuple[int, str, dict[str, Any]]:
    outdir = tmp_path_factory.mktemp("resilience") / "cdk.out"
    shutil.copytree(synthesized.outdir, outdir)
    code, line = run_gate(outdir)
    return code, line, json.loads((outdir / "resilience.json").read_text())


@pytest.fixture
def assembly_copy(synthesized, tmp_path) -> Callable[[Callable[[dict[str, Any]], None]], Path]:
    """A copy of the session's assembly with ``edit`` applied to every template (then recorded as synth's)."""
    def make(edit: Callable[[dict[str, Any]], None]) -> Path:
        outdir = tmp_path / "cdk.out"
        shutil.copytree(synthesized.outdir, outdir)
        for template in outdir.rglob("*.template.json"):
            document = json.loads(template.read_text())
            edit(document)
            template.write_text(json.dumps(document))
        custody.record(outdir, commit="edited", passed=True)
        return outdir
    return make


def edit_resources(kind: str, change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        for resource in document.get("Resources", {}).values():
            if resource["Type"] == kind:
                change(resource.setdefault("Properties", {}))
    return edit


def test_the_configured_app_fits_every_environment_objective(judged):
    code, line, written = judged
    assert code == 0, line
    assert line == ("resilience: PASS: dev rto budget 880 s (≤ 900), rpo budget 240 s (≤ 300); "
                    "staging rto budget 880 s (≤ 900), rpo budget 240 s (≤ 300); "
                    "prod rto budget 880 s (≤ 900), rpo budget 240 s (≤ 300)")
    prod = next(b for b in written["budgets"] if b["env"] == "prod")
    terms = {term["name"]: term["seconds"] for term in prod["rto_terms"]}
    # Route 53: 10 s x 3 failures + one interval of checker spread; the alias's 60 s TTL; CloudFront's defaults.
    assert terms["detection"] == 40 and terms["dns"] == 60 and terms["edge"] == 30 and terms["capacity"] == 0
    assert terms["runbook failover.md"] == 360 and terms["runbook replica-promotion.md"] == 60
    assert prod["critical_path"] == ["detection", "alerting", "runbook failover.md", "runbook replica-promotion.md",
                                     "promotion"]
    assert prod["backup_rpo_s"] == 24 * 3600 + 3600 and prod["breaches"] == []
    assert written["custody"]  # the seal: the evidence refuses a budget of another synthesis


def test_a_slower_health_check_fails_the_budget_naming_detection(slo, registry, tmp_path):
    """The must-show: raise the failure threshold in a copy of cdk.json until the RTO budget breaks."""
    document = json.loads(CDK_JSON.read_text())
    environments = document["context"]["environments"]
    document["context"]["environments"] = {"dev": environments["dev"]}
    for threshold in range(5, 11):  # 3 (the configured one) passes in the test above
        environments["dev"]["dns"]["health_check_failure_threshold"] = threshold
        copy = tmp_path / f"threshold-{threshold}" / "cdk.json"
        copy.parent.mkdir()
        copy.write_text(json.dumps(document))
        outdir = copy.parent / "cdk.out"
        synthesize(load_config(copy), slo, registry, outdir)
        code, line = run_gate(outdir, cdk_json=copy)
        if code != 0:
            break
    assert (code, threshold) == (1, 6), line  # 10 s x 6 + 10 s of spread: 70 s, and the writes path is 840 s
    assert line.startswith("resilience: FAIL: dev rto budget 910 s (≤ 900)")
    assert "exceeded: dev rto budget 910 s > 900 s: runbook failover.md 360 s, promotion 300 s, alerting 120 s, " \
           "detection 70 s, runbook replica-promotion.md 60 s" in line


def test_a_lag_alarm_that_fires_late_fails_the_rpo(assembly_copy):
    outdir = assembly_copy(edit_resources("AWS::CloudWatch::Alarm", lambda alarm: alarm.update(
        DatapointsToAlarm=5, EvaluationPeriods=5) if alarm.get("MetricName") == "ReplicaLag" else None))
    code, line = run_gate(outdir)
    assert code == 1
    assert "prod rpo budget 420 s > 300 s: lag detection 360 s, lag tolerated 60 s" in line


def test_a_weekly_backup_copy_fails_the_backup_rpo(assembly_copy):
    def weekly(plan: dict[str, Any]) -> None:
        for rule in plan["BackupPlan"]["BackupPlanRule"]:
            rule["ScheduleExpression"] = "rate(7 days)"
    code, line = run_gate(assembly_copy(edit_resources("AWS::Backup::BackupPlan", weekly)))
    assert code == 1 and "dev backup rpo budget 608400 s > 93600 s: backup interval 604800 s" in line


@pytest.mark.parametrize(("kind", "change", "message"), [
    ("AWS::Route53::RecordSet", lambda r: r.pop("Failover", None), "expected one PRIMARY failover record, found 0"),
    ("AWS::RDS::DBInstance", lambda r: r.pop("SourceDBInstanceIdentifier", None),
     "expected one cross-region read replica in us-east-2, found 0"),
    ("AWS::CloudWatch::Alarm", lambda r: r.update(MetricName="Other") if r.get("MetricName") == "ReplicaLag" else None,
     "no ReplicaLag alarm (Maximum above a threshold, with an action) on the us-east-2 replica records-dev-use2"),
    # A lag alarm that watches another database, fires on low lag, or tells nobody bounds nothing.
    ("AWS::CloudWatch::Alarm", lambda r: r.update(Dimensions=[{"Name": "DBInstanceIdentifier", "Value": "other"}])
     if r.get("MetricName") == "ReplicaLag" else None, "no ReplicaLag alarm (Maximum above a threshold"),
    ("AWS::CloudWatch::Alarm", lambda r: r.update(ComparisonOperator="LessThanThreshold")
     if r.get("MetricName") == "ReplicaLag" else None, "no ReplicaLag alarm (Maximum above a threshold"),
    ("AWS::CloudWatch::Alarm", lambda r: r.pop("AlarmActions") if r.get("MetricName") == "ReplicaLag" else None,
     "no ReplicaLag alarm (Maximum above a threshold"),
    ("AWS::CloudWatch::Alarm", lambda r: r.update(Threshold={"Ref": "LagParameter"})
     if r.get("MetricName") == "ReplicaLag" else None, "a template value the budget reads is missing or not a plain"),
    ("AWS::ApplicationAutoScaling::ScalableTarget", lambda r: r.pop("MinCapacity"),
     "a template value the budget reads is missing or not a plain value (KeyError: 'MinCapacity')"),
    ("AWS::Route53::RecordSet", lambda r: r.update(Failover="PRIMARY") if r.get("Failover") == "SECONDARY" else None,
     "expected one PRIMARY failover record, found 2"),
    ("AWS::Route53::RecordSet", lambda r: r.pop("Failover") if r.get("Failover") == "SECONDARY" else None,
     "expected one SECONDARY failover record, found 0"),
    ("AWS::Route53::RecordSet", lambda r: r.update(AliasTarget=json.loads(json.dumps(r["AliasTarget"]).replace(
        "us-east-2", "us-east-1"))) if r.get("Failover") == "SECONDARY" else None,
     "the SECONDARY failover record does not answer origin.dev.records.example.com. with a target in us-east-2"),
    ("AWS::Backup::BackupPlan", lambda r: [rule.update(ScheduleExpression="cron(0 5 * * ? 2020)")
                                           for rule in r["BackupPlan"]["BackupPlanRule"]],
     "is not a daily cron or a rate"),
    ("AWS::Backup::BackupPlan", lambda r: [rule.pop("CopyActions") for rule in r["BackupPlan"]["BackupPlanRule"]],
     "no backup rule in us-east-1 copies to a vault in us-east-2"),
    ("AWS::Backup::BackupPlan", lambda r: [rule.update(ScheduleExpression="cron(0 5 ? * MON *)")
                                           for rule in r["BackupPlan"]["BackupPlanRule"]],
     "is not a daily cron or a rate"),
    ("AWS::CloudWatch::Alarm", lambda r: r.update(MetricName="Other") if r.get("MetricName") == "HealthCheckStatus"
     else None, "no HealthCheckStatus alarm on us-east-1's health check pages anyone"),
    ("AWS::CloudWatch::Alarm", lambda r: r.pop("AlarmActions") if r.get("MetricName") == "HealthCheckStatus"
     else None, "no HealthCheckStatus alarm on us-east-1's health check pages anyone"),
    # Only the secondary's check keeps its alarm: it does not tell anyone that the primary is lost.
    ("AWS::CloudWatch::Alarm", lambda r: r.update(MetricName="Other") if "useast1" in json.dumps(r.get("Dimensions"))
     and r.get("MetricName") == "HealthCheckStatus" else None,
     "no HealthCheckStatus alarm on us-east-1's health check pages anyone"),
    ("AWS::Route53::RecordSet", lambda r: r.pop("HealthCheckId", None),
     "the PRIMARY failover record has no health check in the template"),
    ("AWS::Route53::RecordSet", lambda r: r.pop("AliasTarget", None) if r.get("Failover") == "PRIMARY" else None,
     "the PRIMARY failover record has neither an alias nor a TTL"),
    ("AWS::CloudFront::Distribution", lambda r: [o.update(DomainName="elsewhere.example.com")
                                                 for o in r["DistributionConfig"]["Origins"]],
     "no CloudFront origin is the failover name origin.dev.records.example.com"),
])
def test_a_template_without_what_a_term_needs_is_inconclusive(assembly_copy, kind, change, message):
    code, line = run_gate(assembly_copy(edit_resources(kind, change)))
    assert code == 2 and line.startswith("resilience: INCONCLUSIVE: dev: ") and message in line, line


def test_a_record_with_a_ttl_counts_its_ttl_and_a_manifest_missing_is_inconclusive(assembly_copy):
    def plain_record(record: dict[str, Any]) -> None:
        if record.get("Failover") == "PRIMARY":
            record.pop("AliasTarget")
            record.update(TTL="300", ResourceRecords=["192.0.2.1"])
    outdir = assembly_copy(edit_resources("AWS::Route53::RecordSet", plain_record))
    code, line = run_gate(outdir)
    assert code == 0, line
    dev = json.loads((outdir / "resilience.json").read_text())["budgets"][0]
    assert {t["name"]: t["seconds"] for t in dev["rto_terms"]}["dns"] == 300
    (outdir / "assembly-staging" / "manifest.json").unlink()
    custody.record(outdir, commit="edited", passed=True)
    code, line = run_gate(outdir)
    assert code == 2 and "assembly-staging/manifest.json: FileNotFoundError" in line


def test_templates_edited_after_synth_are_refused(synthesized, tmp_path):
    outdir = tmp_path / "cdk.out"
    shutil.copytree(synthesized.outdir, outdir)
    template = next(outdir.rglob("*Edge*.template.json"))
    template.write_text(template.read_text().replace('"FailureThreshold": 3', '"FailureThreshold": 1'))
    code, line = run_gate(outdir)
    assert code == 2 and "changed since synth judged it" in line


def test_no_assembly_is_inconclusive(tmp_path):
    code, line = run_gate(tmp_path)
    assert code == 2 and line.startswith("resilience: INCONCLUSIVE:")


def test_a_runbook_without_declared_durations_is_inconclusive(synthesized, tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "policies", root / "policies")
    shutil.copytree(ROOT / "docs" / "runbooks", root / "docs" / "runbooks")
    failover = root / "docs" / "runbooks" / "failover.md"
    failover.write_text(failover.read_text().split("\n---\n", 1)[1])
    outdir = tmp_path / "cdk.out"
    shutil.copytree(synthesized.outdir, outdir)
    code, line = run_gate(outdir, root=root)
    assert code == 2 and "failover.md: no front matter" in line


@pytest.mark.parametrize(("front", "message"), [
    ("recovery_steps: []", "declares no recovery_steps"),
    ("recovery_steps: [{step: confirm}]", "recovery_steps[1] needs a step name and seconds >= 0"),
    ("recovery_steps: [{step: confirm, seconds: -1}]", "seconds >= 0"),
    ("recovery_steps: [{step: confirm, seconds: true}]", "seconds >= 0"),
    ("recovery_steps: [", "front matter is not YAML"),
])
def test_malformed_front_matter_names_the_problem(tmp_path, front, message):
    runbook = tmp_path / "runbook.md"
    runbook.write_text(f"---\n{front}\n---\n# Runbook\n")
    with pytest.raises(RunbookError, match=message.replace("[", r"\[")):
        recovery_steps(runbook)


def test_the_runbooks_declare_the_steps_the_budget_adds():
    steps = recovery_steps(ROOT / "docs" / "runbooks" / "failover.md")
    assert [s.seconds for s in steps] == [240, 60, 60] and "confirm" in steps[0].step
    with pytest.raises(RunbookError, match="No such file"):
        recovery_steps(ROOT / "docs" / "runbooks" / "missing.md")


def test_an_estimate_without_its_source_is_refused(tmp_path):
    document = (ROOT / "policies" / "resilience.yaml").read_text()
    path = tmp_path / "resilience.yaml"
    path.write_text(document.replace(
        "    source: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html\n", ""))
    with pytest.raises(ResilienceError, match="replica_promotion_seconds.source: Field required"):
        load_resilience(path)
    path.write_text(document.replace("  backup_copy_seconds:", "  renamed_copy_seconds:"))
    with pytest.raises(ResilienceError, match="estimates lack backup_copy_seconds"):
        load_resilience(path)


@pytest.mark.parametrize(("expression", "seconds"), [
    ("cron(0 5 * * ? *)", 86400), ("cron(0 5,17 * * ? *)", 43200), ("cron(0 1,5 * * ? *)", 72000),
    ("cron(30 * * * ? *)", 3600), ("rate(12 hours)", 43200), ("rate(1 day)", 86400), ("rate(15 minutes)", 900),
])
def test_backup_schedules_give_the_longest_gap_between_runs(expression, seconds):
    assert schedule_interval_s(expression) == seconds


def test_the_critical_path_is_detection_then_the_longer_branch():
    budget = Budget(env="x", rto_terms=(Term("detection", 10, "d"), Term("dns", 500, "t", "traffic"),
                                        Term("promotion", 100, "w", "writes")),
                    rpo_terms=(Term("lag", 10, "l"),), rto_objective_s=400, rpo_objective_s=5)
    assert [t.name for t in budget.critical_path] == ["detection", "dns"] and budget.rto_s == 510
    assert budget.breaches() == ["rto budget 510 s > 400 s: dns 500 s, detection 10 s",
                                 "rpo budget 10 s > 5 s: lag 10 s"]


def _services(primary_desired: int, secondary: dict[str, Any], policies: list[dict[str, Any]]) -> Assembly:
    """A primary ECS service and a secondary one with its scalable target (``desired``: the secondary's desired
    count, its minimum when absent) and step-scaling policies."""
    def service(desired: int) -> tuple[str, dict[str, Any]]:
        return "Service", {"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": desired}}
    desired = secondary.get("desired", secondary["MinCapacity"])
    limits = {k: v for k, v in secondary.items() if k != "desired"}
    target = ("Target", {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": limits})
    scaling = [(f"Policy{i}", {"Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                               "Properties": {"ScalingTargetId": {"Ref": "Target"}, **p}})
               for i, p in enumerate(policies)]
    return Assembly("x", {"us-east-1": (service(primary_desired),),
                          "us-east-2": (service(desired), target, *scaling)})


def test_a_smaller_secondary_adds_its_scale_out_to_the_traffic_path():
    estimates = load_resilience()
    double = {"StepScalingPolicyConfiguration": {"AdjustmentType": "PercentChangeInCapacity", "Cooldown": 60,
                                                 "StepAdjustments": [{"ScalingAdjustment": 100}]}}
    term = capacity(_services(8, {"MinCapacity": 2, "MaxCapacity": 12}, [double]), "us-east-1", "us-east-2",
                    estimates)
    # The alarm's minute, then 2 -> 4 -> 8, each a cooldown and a task start.
    assert term.seconds == 60 + 2 * (60 + 120) and "2 → 8 tasks: 60 s for the alarm, then 2 step(s)" in term.basis
    with pytest.raises(MissingInput, match="has no scale-out policy"):
        capacity(_services(8, {"MinCapacity": 2, "MaxCapacity": 12}, []), "us-east-1", "us-east-2", estimates)
    with pytest.raises(MissingInput, match="scales to 4 tasks at most"):
        capacity(_services(8, {"MinCapacity": 2, "MaxCapacity": 4}, [double]), "us-east-1", "us-east-2", estimates)
    # Which step applies depends on the breach, so the smallest scale-out counts; a scale-in never does.
    plus_three = {"StepScalingPolicyConfiguration": {"StepAdjustments": [{"ScalingAdjustment": 3},
                                                                         {"ScalingAdjustment": 6}]}}
    scale_in = {"StepScalingPolicyConfiguration": {"StepAdjustments": [{"ScalingAdjustment": -1}]}}
    term = capacity(_services(8, {"MinCapacity": 2, "MaxCapacity": 12}, [scale_in, double, plus_three]),
                    "us-east-1", "us-east-2", estimates)
    assert term.seconds == 60 + 2 * (300 + 120) and "2 → 8 tasks" in term.basis  # 2 -> 5 -> 8, default cooldown


def test_an_idle_secondary_counts_at_its_floor_and_the_primary_at_least_at_its_own():
    estimates = load_resilience()
    double = {"StepScalingPolicyConfiguration": {"AdjustmentType": "PercentChangeInCapacity", "Cooldown": 60,
                                                 "StepAdjustments": [{"ScalingAdjustment": 100}]}}
    # Desired 3 in the secondary, but its own scale-in takes an idle service down to its minimum of 1.
    assembly = _services(3, {"MinCapacity": 1, "MaxCapacity": 12, "desired": 3}, [double])
    assert capacity(assembly, "us-east-1", "us-east-2", estimates).seconds == 60 + 2 * (60 + 120)  # 1 -> 2 -> 4


def test_a_run_that_cannot_judge_removes_the_previous_verdict_and_a_verdict_records_its_inputs(judged, synthesized,
                                                                                               tmp_path):
    _, _, written = judged
    assert set(written["inputs"]) == {"policies/slo.yaml", "policies/resilience.yaml", "docs/runbooks/failover.md",
                                      "docs/runbooks/replica-promotion.md"}
    outdir = tmp_path / "cdk.out"
    shutil.copytree(synthesized.outdir, outdir)
    assert run_gate(outdir)[0] == 0 and (outdir / "resilience.json").exists()
    template = next(outdir.rglob("*Edge*.template.json"))
    template.write_text(template.read_text() + " ")
    assert run_gate(outdir)[0] == 2
    assert not (outdir / "resilience.json").exists()
