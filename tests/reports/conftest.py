"""A small, hand-made cdk.out: two stacks with the same logical id in two regions, plus each gate's output.
Factories take overrides so a test states only what it changes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gates import custody, provenance
from gates import image as image_gate
from gates.resilience import inputs
from gates.resilience.model import Budget, Term
from policies.resilience import load_resilience
from reports.evidence import Inputs
from reports.render.screenshot import CHROMIUM
from reports.sources import resilience as resilience_source
from tests.factories import trivy_report

IMAGE_SCAN_DAY = dt.date(2026, 11, 23)
SYNTH_TIME = dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.UTC)  # an hour before the reports' tests generate

ACK_REASON = "Sink bucket cannot log to itself. [ack access-log-sink-buckets-not-logged; owner platform-security; " \
             "review by 2027-08-31]"


def stack_artifact(env: str, stack: str, region: str) -> dict[str, Any]:
    return {"type": "aws:cloudformation:stack", "environment": f"aws://111111111111/{region}",
            "displayName": f"{env}/{stack}", "properties": {"templateFile": f"{env}{stack}.template.json"}}


def nag_finding(rule: str, path: str, *, reason: str | None = None) -> dict[str, Any]:
    finding: dict[str, Any] = {"ruleName": rule, "description": f"{rule} finding - (Control IDs: SC-28).",
                               "severity": "error", "violatingConstructs": [{"constructPath": path}]}
    if reason is not None:
        finding |= {"acknowledgedId": f"HIPAA.Security::{rule}", "reason": reason, "acknowledgedAt": path}
    return finding


def checkov_item(check_id: str, template: str, resource: str, comment: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"check_id": check_id, "check_name": f"Ensure {check_id}", "file_path": template,
                            "resource": resource}
    if comment:
        item["check_result"] = {"result": "SKIPPED", "suppress_comment": comment}
    return item


class FakeGates:
    """Writes the files the gates would write; each method replaces one file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cdk_out = root / "cdk.out"
        self.inputs = Inputs(cdk_out=self.cdk_out, junit=root / "junit.xml", cucumber=root / "cucumber.json",
                             measurements=root / "measurements.json", load_gate=root / "gate.json",
                             image_gate=root / "image-gate.json", sbom=root / "sbom.cdx.json", aws=root / "aws.json",
                             kpis=root / "kpis.json")

    def write(self, path: Path, document: object) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document if isinstance(document, str) else json.dumps(document))
        return path

    def synth(self, *, violations: list[dict[str, Any]] | None = None,
              suppressed: list[dict[str, Any]] | None = None, guard_errors: list[dict[str, Any]] | None = None,
              extra_resources: dict[str, Any] | None = None) -> None:
        assembly = self.cdk_out / "assembly-dev"
        self.write(assembly / "manifest.json", {"artifacts": {
            "a": stack_artifact("dev", "Data-use1", "us-east-1"), "b": stack_artifact("dev", "Data-use2", "us-east-2")}})
        for stack in ("Data-use1", "Data-use2"):
            bucket = {"Type": "AWS::S3::Bucket", "Metadata": {"aws:cdk:path": f"dev/{stack}/Logs/Resource"}}
            self.write(assembly / f"dev{stack}.template.json", {"Resources": {"Logs": bucket, **(extra_resources or {})}})
        packs = [{"pluginName": pack, "violations": [], "suppressedViolations": []}
                 for pack in ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5")]
        packs[1]["violations"] = violations or []
        packs[1]["suppressedViolations"] = suppressed or []
        packs.append({"pluginName": "Construct Annotations", "violations": guard_errors or []})
        self.write(self.cdk_out / "validation-report.json", {"version": "55.0.0", "pluginReports": packs})
        self.write(self.cdk_out / "guards.json", {"project": "records",
                                                  "environments": {"dev": ["Guard-Tags", "Guard-Encryption"]},
                                                  "acknowledged": {"access-log-sink-buckets-not-logged": {"dev": 1}}})
        # As the synth gate does: the evidence refuses templates nobody judged.
        custody.record(self.cdk_out, commit="fake-synth", passed=True, at=SYNTH_TIME)

    def checkov(self, *, passed=(), failed=(), skipped=(), gate_exit: int | None = 0) -> None:
        report: dict[str, Any] = {"results": {
            "passed_checks": list(passed), "failed_checks": list(failed), "skipped_checks": list(skipped)},
            "summary": {"checkov_version": "3.3.30"}}
        if gate_exit is not None:
            report["gate"] = {"exit_code": gate_exit, "summary": "checkov: ...", "problems": []}
        self.write(self.cdk_out / "checkov.json", report | self._seal())

    def cfn_lint(self, findings: list[dict[str, Any]] | None = None) -> None:
        self.write(self.cdk_out / "cfn-lint.json", {"templates": 2, "findings": findings or []} | self._seal())

    def resilience(self, *, rto_s: float = 880, rpo_s: float = 240) -> None:
        """The budget gate's result for dev, as gates.resilience writes it (the model's own JSON)."""
        budget = Budget(env="dev", rto_terms=(Term("detection", 40, "health check"),
                                              Term("promotion", rto_s - 40, "estimate", "writes")),
                        rpo_terms=(Term("lag tolerated", rpo_s, "alarm threshold"),), rto_objective_s=900,
                        rpo_objective_s=300, backup_rpo_terms=(Term("backup interval", 86400, "daily"),),
                        backup_rpo_objective_s=93600)
        runbooks = load_resilience().region_loss_runbooks
        self.write(self.cdk_out / "resilience.json", {"budgets": [budget.to_json()],
                                                      "inputs": inputs.digests(resilience_source.ROOT, runbooks)} | self._seal())

    def aws(self, *, non_compliant: tuple[str, ...] = (), drifted: tuple[str, ...] = ()) -> None:
        """What python -m reports collect --target aws writes for staging (with its provenance): one region with
        a recording recorder, two rules per pack and two stacks; the named rules and stacks fail."""
        rules = [{"pack": pack, "rule": rule, "compliance": "NON_COMPLIANT" if rule in non_compliant else "COMPLIANT"}
                 for pack in ("hipaa-security", "nist-800-53-r5")
                 for rule in ("s3-bucket-ssl-requests-only", "rds-storage-encrypted")]
        rules.append({"pack": "", "rule": "secret-rotation-overdue",
                      "compliance": "NON_COMPLIANT" if "secret-rotation-overdue" in non_compliant else "COMPLIANT"})
        stacks = [{"stack": stack, "drift": "DRIFTED" if stack in drifted else "IN_SYNC",
                   "checked_at": "2026-11-23T06:00:00+00:00",
                   **({"resources": [{"logical_id": "TaskRole", "type": "AWS::IAM::Role", "status": "MODIFIED"}]}
                      if stack in drifted else {})}
                  for stack in ("records-staging-service-use1", "records-staging-data-use1")]
        path = self.write(self.inputs.aws, {"env": "staging", "collected_at": "2026-11-23T11:00:00+00:00",
                                            "regions": [{"region": "us-east-1", "rules": rules, "stacks": stacks,
                                                         "recorder": {"name": "records-staging-use1",
                                                                      "recording": True, "last_status": "Success",
                                                                      "records_as_designed": True}}]})
        provenance.write(path, commit="fake-synth")

    def kpis(self, *, change_failure_rate: float = 12.5) -> None:
        """What python -m reports kpis writes for prod (with its provenance); time to restore not judged."""
        from reports.kpis import Kpi, KpiReport

        def kpi(name: str, observed: float | None, comparison: str, threshold: float, unit: str, verdict: str) -> Kpi:
            return Kpi(name=name, label=name.replace("_", " "), observed=observed, comparison=comparison,
                       threshold=threshold, unit=unit, verdict=verdict, basis="fixture")

        failing = "pass" if change_failure_rate <= 15 else "fail"
        report = KpiReport(env="prod", since=dt.datetime(2026, 10, 24, tzinfo=dt.UTC),
                           until=dt.datetime(2026, 11, 23, tzinfo=dt.UTC), kpis=(
            kpi("deployment_frequency", 1.87, ">=", 1, "/week", "pass"), kpi("lead_time", 5.6, "<=", 24, "h", "pass"),
            kpi("change_failure_rate", change_failure_rate, "<=", 15, "%", failing),
            kpi("time_to_restore", None, "<=", 15, "min", "not-judged"),
            kpi("pipeline", None, "<=", 10, "min", "inconclusive")))
        provenance.write(self.write(self.inputs.kpis, report.model_dump_json()), commit="fake-synth")

    def _seal(self) -> dict[str, str]:
        """As the real gates stamp their results: with the synthesis they judged, when there was one."""
        present = (self.cdk_out / custody.CUSTODY_FILE).exists()
        return {custody.SEAL_KEY: custody.seal(self.cdk_out)} if present else {}

    def image(self, *vulnerabilities: dict[str, str], entries: tuple[dict[str, Any], ...] = ()) -> int:
        """The real image gate's verdict (and provenance) on a Trivy report of these findings, for dev."""
        report = self.write(self.root / "trivy.json", trivy_report(*vulnerabilities))
        registry = self.write(self.root / "image-registry.yaml", yaml.safe_dump(list(entries)))
        return image_gate.main(["--registry", str(registry), "--env", "dev", "--out", str(self.inputs.image_gate),
                                "trivy", str(report)], today=IMAGE_SCAN_DAY)

    def sbom(self, components: int = 3, bom_format: str = "CycloneDX") -> None:
        """A CycloneDX SBOM as Trivy writes it for the image, with this many library components."""
        self.write(self.inputs.sbom, {
            "bomFormat": bom_format, "specVersion": "1.6", "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
            "metadata": {"component": {"type": "container", "name": "records-service:abc123"}},
            "components": [{"type": "library", "name": f"package-{n}", "version": "1.0"} for n in range(components)]})

    def all_static(self, violations: list[dict[str, Any]] | None = None) -> FakeGates:
        self.synth(suppressed=[nag_finding("HIPAA.Security-S3BucketLoggingEnabled", "dev/Data-use1/Logs/Resource",
                                           reason=ACK_REASON)], violations=violations)
        self.checkov(passed=[checkov_item("CKV_AWS_21", "assembly-dev/devData-use1.template.json", "AWS::S3::Bucket.Logs"),
                             checkov_item("CKV_AWS_21", "assembly-dev/devData-use2.template.json", "AWS::S3::Bucket.Logs")],
                     skipped=[checkov_item("CKV_AWS_18", "assembly-dev/devData-use1.template.json",
                                           "AWS::S3::Bucket.Logs", ACK_REASON)])
        self.cfn_lint([{"rule_id": "W3005", "template": "assembly-dev/devData-use1.template.json", "line": 3,
                        "message": "redundant DependsOn"}])
        self.resilience()
        return self


@pytest.fixture
def gates(tmp_path: Path) -> FakeGates:
    return FakeGates(tmp_path)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, which Playwright drives (never a browser it downloads)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; `make test` installs Debian's chromium (python3 -m ops.system_deps test)")
    return CHROMIUM


def skip_printing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The printing child writes placeholder charts and PDF instead (see no_printing)."""
    from reports.render import pdf

    def placeholders(evidence: object, page: str, out: Path, path: Path) -> None:
        for chart in ("controls.png", "sources.png"):
            (out / chart).write_bytes(b"")
        path.write_bytes(b"%PDF-1.4 placeholder")

    monkeypatch.setattr(pdf, "_charts_then_pdf", placeholders)


@pytest.fixture
def no_printing(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests of verdicts and files, not of rendering: the printing child writes placeholder charts and PDF.
    Printing them is most of a bundle's cost; test_generate's module bundle and its failed-PDF test, and the
    browser test, cover the real rendering."""
    skip_printing(monkeypatch)
