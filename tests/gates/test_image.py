from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
import requests
import yaml
from botocore.stub import Stubber
from moto import mock_aws

from gates import image as image_gate
from gates import provenance
from gates.image import Finding, NoVerdict, ecr_findings, trivy_findings, wait_for_ecr_scan
from tests.factories import acknowledgment_entry, trivy_report, vulnerability

TODAY = dt.date(2026, 11, 23)
REGION = "us-east-1"


@pytest.fixture
def run(tmp_path):
    """Write a Trivy report and a registry, run the gate's CLI; return (exit code, verdict file or None)."""

    def _run(report: object, entries: list[dict] | None = None, *extra: str) -> tuple[int, dict | None]:
        report_path, registry_path, out = tmp_path / "trivy.json", tmp_path / "registry.yaml", tmp_path / "gate.json"
        report_path.write_text(report if isinstance(report, str) else json.dumps(report))
        registry_path.write_text(yaml.safe_dump(entries or []))
        code = image_gate.main(["--registry", str(registry_path), "--out", str(out), *extra, "trivy",
                                str(report_path)], today=TODAY)
        return code, json.loads(out.read_text()) if out.exists() else None

    return _run


def image_entry(**overrides) -> dict:
    return acknowledgment_entry(**{
        "id": "zlib-inflate", "rules": ["image::CVE-2026-1111"], "paths": ["zlib*"],
        "reason": "Only reachable through inflate of untrusted archives, which the service never reads.",
        "owner": "records-team", "expires": "2027-01-31", **overrides,
    })


def test_an_unacknowledged_critical_finding_blocks(run, capsys):
    code, verdict = run(trivy_report(vulnerability("CVE-2026-1111", "CRITICAL", fixed="1:1.3")))
    assert code == 1
    assert verdict["blocking"][0]["vulnerability"] == "CVE-2026-1111" and verdict["exit_code"] == 1
    err = capsys.readouterr().err
    assert "blocking: CRITICAL CVE-2026-1111 in zlib1g 1:1.2.13, fixed in 1:1.3" in err
    assert "image gate (trivy): FAIL: 1 findings (critical 1); 1 blocking, 0 acknowledged" in err


def test_medium_and_low_findings_never_block(run, capsys):
    code, verdict = run(trivy_report(vulnerability("CVE-2026-2", "MEDIUM"), vulnerability("CVE-2026-3", "LOW")))
    assert code == 0 and verdict["blocking"] == []
    assert "PASS: 2 findings (medium 1, low 1); 0 blocking" in capsys.readouterr().out


def test_a_current_acknowledgment_lets_the_finding_pass(run, capsys):
    code, verdict = run(trivy_report(vulnerability("CVE-2026-1111", "HIGH")), [image_entry()])
    assert code == 0
    assert verdict["acknowledged"][0] | {"title": ""} == {
        "vulnerability": "CVE-2026-1111", "severity": "HIGH", "package": "zlib1g", "installed": "1:1.2.13",
        "fixed": "", "title": "", "acknowledgment": "zlib-inflate", "owner": "records-team", "expires": "2027-01-31"}
    assert verdict["artifact"] == "records-service:abc123"
    assert "acknowledged by 'zlib-inflate': HIGH CVE-2026-1111 in zlib1g" in capsys.readouterr().out


def test_the_verdict_carries_its_commit_and_a_run_that_cannot_judge_removes_both(run, tmp_path):
    run(trivy_report())
    assert provenance.read(tmp_path / "gate.json") is not None
    code, verdict = run({"SchemaVersion": 2, "Results": []})
    assert (code, verdict) == (2, None) and provenance.read(tmp_path / "gate.json") is None


def test_an_expired_acknowledgment_blocks_again_and_says_so(run, capsys):
    code, verdict = run(trivy_report(vulnerability("CVE-2026-1111", "HIGH")), [image_entry(expires="2026-11-22")])
    assert code == 1
    assert verdict["expired"] == ["zlib-inflate (expired 2026-11-22, owner records-team)"]
    assert "acknowledgment zlib-inflate (expired 2026-11-22" in capsys.readouterr().err


@pytest.mark.parametrize("overrides, env", [
    ({"paths": ["openssl"]}, "staging"),  # another package
    ({"rules": ["image::CVE-2026-2222"]}, "staging"),  # another vulnerability
    ({"environments": ["prod"]}, "staging"),  # another environment
    ({"environments": ["staging"]}, None),  # scoped entries need --env
])
def test_an_acknowledgment_matches_only_its_vulnerability_package_and_environment(run, overrides, env):
    extra = ["--env", env] if env else []
    code, verdict = run(trivy_report(vulnerability("CVE-2026-1111", "HIGH")), [image_entry(**overrides)], *extra)
    assert code == 1 and len(verdict["blocking"]) == 1


def test_an_environment_scoped_acknowledgment_applies_in_its_environment(run):
    code, _ = run(trivy_report(vulnerability("CVE-2026-1111", "HIGH")), [image_entry(environments=["staging"])],
                     "--env", "staging")
    assert code == 0


def test_an_acknowledgment_that_matched_nothing_is_reported_but_does_not_block(run, capsys):
    code, verdict = run(trivy_report(), [image_entry()])
    assert code == 0 and verdict["unused"] == ["zlib-inflate"]
    assert "acknowledgment 'zlib-inflate' matched nothing in this image" in capsys.readouterr().out


@pytest.mark.parametrize("report, reason", [
    ("{not json", "not JSON"),
    ({"SchemaVersion": 1, "Results": []}, "expected SchemaVersion 2"),
    ({"SchemaVersion": 2}, "has no Results"),
    ({"SchemaVersion": 2, "Results": [{"Target": "Python", "Class": "lang-pkgs"}]}, "no operating-system packages"),
    ({"SchemaVersion": 2, "Results": [{"Class": "os-pkgs", "Vulnerabilities": [{"Severity": "HIGH"}]}]},
     "not a Trivy report (KeyError"),
])
def test_a_report_that_cannot_be_judged_is_no_verdict_and_removes_an_old_one(run, tmp_path, capsys, report, reason):
    (tmp_path / "gate.json").write_text('{"exit_code": 0}')
    code, verdict = run(report)
    assert code == 2 and verdict is None
    assert reason in capsys.readouterr().err


def test_a_missing_report_or_a_broken_registry_is_no_verdict(tmp_path, capsys):
    assert image_gate.main(["trivy", str(tmp_path / "absent.json")], today=TODAY) == 2
    assert "absent.json: not found; run Trivy first" in capsys.readouterr().err
    broken = tmp_path / "registry.yaml"
    broken.write_text(yaml.safe_dump([image_entry(rules=["image::not-a-cve"])]))
    assert image_gate.main(["--registry", str(broken), "trivy", str(tmp_path / "absent.json")], today=TODAY) == 2
    assert "is not a vulnerability id" in capsys.readouterr().err


def test_the_same_vulnerability_in_two_packages_is_two_findings():
    findings = trivy_findings(trivy_report(vulnerability("CVE-2026-1", "HIGH", "libssl3"),
                                           vulnerability("CVE-2026-1", "HIGH", "openssl")))
    assert [f.package for f in findings] == ["libssl3", "openssl"]


def test_ecr_basic_and_enhanced_findings_are_read():
    pages = [{"imageScanFindings": {
        "findings": [{"name": "CVE-2026-5", "severity": "CRITICAL", "description": "d",
                      "attributes": [{"key": "package_name", "value": "curl"}, {"key": "package_version", "value": "8"}]}],
        "enhancedFindings": [{"severity": "HIGH", "title": "CVE-2026-6 - requests",
                              "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2026-6", "vulnerablePackages": [
                                  {"name": "requests", "version": "2.31", "fixedInVersion": "2.32.4"}]}}],
    }}]
    assert ecr_findings(pages) == [
        Finding("CVE-2026-5", "CRITICAL", "curl", "8", "", "d"),
        Finding("CVE-2026-6", "HIGH", "requests", "2.31", "2.32.4", "CVE-2026-6 - requests"),
    ]


@pytest.fixture
def ecr():
    with mock_aws():
        client = boto3.client("ecr", region_name=REGION)
        client.create_repository(repositoryName="records-service", imageTagMutability="IMMUTABLE",
                                 imageScanningConfiguration={"scanOnPush": True})
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                               "config": {"digest": "sha256:" + "a" * 64, "size": 1, "mediaType": "x"}, "layers": []})
        client.put_image(repositoryName="records-service", imageManifest=manifest, imageTag="abc123")
        yield client


def test_ecr_scan_findings_are_judged_through_the_cli(ecr, tmp_path, capsys):
    ecr.start_image_scan(repositoryName="records-service", imageId={"imageTag": "abc123"})
    # moto's configurable scan result: one enhanced finding, which the registry does not acknowledge.
    requests.post("http://motoapi.amazonaws.com/moto-api/static/ecr/scan-finding-results", json={"region": REGION,
        "results": [{"repositoryName": "records-service", "imageId": {"imageTag": "abc123"},
                     "imageScanStatus": {"status": "COMPLETE"},
                     "imageScanFindings": {"enhancedFindings": [{"severity": "CRITICAL", "title": "t",
                         "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2026-7777",
                                                         "vulnerablePackages": [{"name": "glibc"}]}}]}}]}, timeout=5)
    registry = tmp_path / "registry.yaml"
    registry.write_text(yaml.safe_dump([image_entry()]))
    code = image_gate.main(["--registry", str(registry), "--env", "staging", "ecr", "--repository", "records-service",
                            "--tag", "abc123", "--region", REGION, "--poll-s", "0"], today=TODAY)
    assert code == 1
    assert "blocking: CRITICAL CVE-2026-7777 in glibc" in capsys.readouterr().err


def test_ecr_scan_that_never_starts_times_out_as_no_verdict(ecr):
    clock = iter(range(0, 10_000, 60))
    sleeps = []
    with pytest.raises(NoVerdict, match=r"not finished after 300 s \(last: not started\)"):
        wait_for_ecr_scan(ecr, "records-service", "abc123", timeout_s=300, sleep=sleeps.append,
                          clock=lambda: next(clock))
    assert sleeps == [15.0] * 4  # asked at 60, 120, 180, 240 and 300 s; no sleep after the last


def test_ecr_image_that_was_never_pushed_is_no_verdict(ecr):
    with pytest.raises(NoVerdict, match="records-service:nope is not in the repository"):
        wait_for_ecr_scan(ecr, "records-service", "nope", timeout_s=0)


def test_a_failed_ecr_scan_is_no_verdict_and_a_pending_one_is_awaited():
    client = boto3.client("ecr", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_response("describe_image_scan_findings", {"imageScanStatus": {"status": "IN_PROGRESS"}})
    stub.add_response("describe_image_scan_findings", {"imageScanStatus": {"status": "UNSUPPORTED_IMAGE",
                                                                          "description": "not an OS we know"}})
    with stub, pytest.raises(NoVerdict, match="ended UNSUPPORTED_IMAGE: not an OS we know"):
        wait_for_ecr_scan(client, "records-service", "abc123", timeout_s=60, sleep=lambda _: None)
    stub.assert_no_pending_responses()


def test_the_cli_reports_aws_errors_as_no_verdict(capsys, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    with mock_aws():
        code = image_gate.main(["ecr", "--repository", "absent", "--tag", "t", "--region", REGION], today=TODAY)
    assert code == 2
    assert "INCONCLUSIVE: ECR: An error occurred (RepositoryNotFoundException)" in capsys.readouterr().err
