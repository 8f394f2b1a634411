"""The image vulnerability gate: HIGH and CRITICAL findings in the service image block promotion unless the
exception registry (``policies/acknowledgments.yaml``, ``image::`` entries) accepts them, each with an expiry.

    python -m gates.image [--env staging] [--out image-gate.json] trivy trivy.json
    python -m gates.image --env staging ecr --repository records-service --tag <git sha> --region us-east-1

``trivy`` judges a Trivy JSON report (CI scans the image before it is pushed anywhere); ``ecr`` waits for
ECR's scan of the pushed image and judges its findings (basic or enhanced scanning). An acknowledgment
matches a finding by vulnerability id, package name (the entry's ``paths`` are globs over package names) and
environment; an expired one matches nothing, so the finding blocks again.

Exit codes: 0 nothing blocking; 1 blocking findings; 2 no verdict (no report, unreadable report, a report that
saw no operating system, a failed or unfinished scan). No data is never a pass.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gates import provenance
from gates.verdict import Verdict as GateVerdict
from policies.acknowledgments import REGISTRY_FILE, AcknowledgmentEntry, Registry, RegistryError, load_registry

BLOCKING = ("CRITICAL", "HIGH")
# ECR scan states after which no findings will come (ACTIVE: enhanced scanning, continuously re-scanned).
ECR_DONE = ("COMPLETE", "ACTIVE")
ECR_FAILED = ("FAILED", "UNSUPPORTED_IMAGE", "SCAN_ELIGIBILITY_EXPIRED", "FINDINGS_UNAVAILABLE", "LIMIT_EXCEEDED",
              "IMAGE_ARCHIVED", "IMAGE_SIZE_EXCEEDED")


class NoVerdict(Exception):
    """The findings cannot be judged; the message says why."""


@dataclass(frozen=True)
class Finding:
    vulnerability: str
    severity: str
    package: str
    installed: str = ""
    fixed: str = ""
    title: str = ""

    @property
    def blocking(self) -> bool:
        return self.severity in BLOCKING

    def describe(self) -> str:
        fix = f", fixed in {self.fixed}" if self.fixed else ", no fix released"
        return f"{self.severity} {self.vulnerability} in {self.package} {self.installed}{fix}"


@dataclass(frozen=True)
class Verdict:
    scanner: str
    environment: str | None
    findings: tuple[Finding, ...]
    blocking: tuple[Finding, ...]
    acknowledged: tuple[tuple[Finding, AcknowledgmentEntry], ...]
    expired: tuple[str, ...] = ()  # entries that would have matched, had they not expired
    unused: tuple[str, ...] = ()  # image entries for this environment that matched nothing
    counts: dict[str, int] = field(default_factory=dict)
    artifact: str = ""  # what was scanned: Trivy's ArtifactName, or repository:tag in ECR

    @property
    def exit_code(self) -> GateVerdict:
        return GateVerdict.of(failed=bool(self.blocking), judged=True)

    def summary(self) -> str:
        word = self.exit_code.name
        by_severity = ", ".join(f"{severity.lower()} {count}" for severity, count in self.counts.items() if count)
        return (
            f"image gate ({self.scanner}): {word}: {len(self.findings)} findings ({by_severity or 'none'}); "
            f"{len(self.blocking)} blocking, {len(self.acknowledged)} acknowledged"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "scanner": self.scanner,
            "artifact": self.artifact,
            "environment": self.environment,
            "exit_code": self.exit_code,
            "summary": self.summary(),
            "counts": self.counts,
            "blocking": [asdict(f) for f in self.blocking],
            # Owner and review date travel with each one: the evidence shows who accepted what until when.
            "acknowledged": [{**asdict(f), "acknowledgment": entry.id, "owner": entry.owner,
                              "expires": entry.expires.isoformat()} for f, entry in self.acknowledged],
            "expired": list(self.expired),
            "unused": list(self.unused),
        }


def trivy_findings(report: object) -> list[Finding]:
    """Findings of a Trivy JSON report (schema version 2), one per vulnerability and package.

    :raise NoVerdict: not a Trivy report, or one that found no operating-system packages (Trivy did not
        recognise the image, so an empty list would mean nothing).
    """
    if not isinstance(report, Mapping) or report.get("SchemaVersion") != 2:
        raise NoVerdict("not a Trivy JSON report (expected SchemaVersion 2; run trivy with --format json)")
    results = report.get("Results")
    if not isinstance(results, list):
        raise NoVerdict("the Trivy report has no Results: the scan did not run")
    if not any(isinstance(r, Mapping) and r.get("Class") == "os-pkgs" for r in results):
        raise NoVerdict("Trivy found no operating-system packages in the image, so it could not scan it")
    return [
        Finding(
            vulnerability=str(v["VulnerabilityID"]),
            severity=str(v.get("Severity", "UNKNOWN")).upper(),
            package=str(v.get("PkgName", "")),
            installed=str(v.get("InstalledVersion", "")),
            fixed=str(v.get("FixedVersion", "")),
            title=str(v.get("Title", "")),
        )
        for result in results
        for v in result.get("Vulnerabilities") or []
    ]


def ecr_findings(pages: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """Findings of ``DescribeImageScanFindings`` pages: basic scanning's ``findings`` and enhanced scanning's
    ``enhancedFindings`` (one per vulnerable package)."""
    found = []
    for page in pages:
        scan = page.get("imageScanFindings") or {}
        for item in scan.get("findings") or []:
            attributes = {a["key"]: a.get("value", "") for a in item.get("attributes") or []}
            found.append(Finding(
                vulnerability=str(item["name"]), severity=str(item.get("severity", "UNDEFINED")).upper(),
                package=attributes.get("package_name", ""), installed=attributes.get("package_version", ""),
                title=str(item.get("description", ""))[:200],
            ))
        for item in scan.get("enhancedFindings") or []:
            details = item.get("packageVulnerabilityDetails") or {}
            for package in details.get("vulnerablePackages") or [{}]:
                found.append(Finding(
                    vulnerability=str(details.get("vulnerabilityId", item.get("title", "?"))),
                    severity=str(item.get("severity", "UNTRIAGED")).upper(),
                    package=str(package.get("name", "")), installed=str(package.get("version", "")),
                    fixed=str(package.get("fixedInVersion", "")), title=str(item.get("title", "")),
                ))
    return found


def wait_for_ecr_scan(
    client: Any,
    repository: str,
    tag: str,
    *,
    timeout_s: float,
    poll_s: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[dict[str, Any]]:
    """Poll until ECR has scanned ``repository:tag``; return every page of its findings.

    boto3's ``image_scan_complete`` waiter is not used: it gives up on ``ScanNotFoundException``, which is the
    normal answer in the seconds between a push and the scan-on-push starting, and it does not know enhanced
    scanning's ``ACTIVE`` state.

    :raise NoVerdict: the scan failed, the image is not in the repository, or no result came in ``timeout_s``.
    """
    deadline = clock() + timeout_s
    image = {"imageTag": tag}
    status = "not started"
    while True:
        try:
            first = client.describe_image_scan_findings(repositoryName=repository, imageId=image)
        except client.exceptions.ScanNotFoundException:
            status = "not started"
        except client.exceptions.ImageNotFoundException:
            raise NoVerdict(f"{repository}:{tag} is not in the repository; push it first") from None
        else:
            scan_status = first.get("imageScanStatus") or {}
            status = str(scan_status.get("status", "?"))
            if status in ECR_DONE:
                paginator = client.get_paginator("describe_image_scan_findings")
                return list(paginator.paginate(repositoryName=repository, imageId=image))
            if status in ECR_FAILED:
                raise NoVerdict(f"ECR scan of {repository}:{tag} ended {status}: {scan_status.get('description', '')}")
        if clock() >= deadline:
            raise NoVerdict(f"ECR scan of {repository}:{tag} not finished after {timeout_s:.0f} s (last: {status})")
        sleep(poll_s)


def _matches(entry: AcknowledgmentEntry, finding: Finding, environment: str | None) -> bool:
    return (
        entry.applies_to(environment)
        and finding.vulnerability in entry.image_vulnerabilities
        and entry.matches(finding.package)  # the registry's glob rule: package names, one segment per "/"
    )


def judge(
    findings: Sequence[Finding], registry: Registry, *, environment: str | None, today: dt.date, scanner: str,
    artifact: str = "",
) -> Verdict:
    """Split HIGH/CRITICAL findings into acknowledged (a current registry entry matches) and blocking."""
    entries = [e for e in registry.entries if e.image_vulnerabilities]
    current = [e for e in entries if e.expires >= today]
    lapsed = [e for e in entries if e.expires < today]
    unique = set(findings)
    blocking: list[Finding] = []
    acknowledged: list[tuple[Finding, AcknowledgmentEntry]] = []
    expired: set[str] = set()
    used: set[str] = set()
    for finding in sorted((f for f in unique if f.blocking),
                          key=lambda f: (BLOCKING.index(f.severity), f.vulnerability, f.package)):
        entry = next((e for e in current if _matches(e, finding, environment)), None)
        if entry is None:
            blocking.append(finding)
            expired.update(
                f"{e.id} (expired {e.expires}, owner {e.owner})" for e in lapsed if _matches(e, finding, environment)
            )
        else:
            acknowledged.append((finding, entry))
            used.add(entry.id)
    in_scope = [e for e in current if e.applies_to(environment)]
    counts = {severity: 0 for severity in ("CRITICAL", "HIGH", "MEDIUM", "LOW")}
    for finding in unique:
        if finding.severity in counts:
            counts[finding.severity] += 1
    return Verdict(
        scanner=scanner, environment=environment, findings=tuple(sorted(unique, key=str)),
        blocking=tuple(blocking), acknowledged=tuple(acknowledged), expired=tuple(sorted(expired)),
        unused=tuple(sorted(e.id for e in in_scope if e.id not in used)), counts=counts, artifact=artifact,
    )


def _read_trivy(path: Path) -> tuple[list[Finding], str]:
    """The report's findings and the artifact it scanned."""
    try:
        report = json.loads(path.read_text())
        return trivy_findings(report), str(report.get("ArtifactName", ""))
    except FileNotFoundError:
        raise NoVerdict(f"{path}: not found; run Trivy first") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise NoVerdict(f"{path}: not JSON ({error})") from None
    except (KeyError, TypeError, AttributeError) as error:
        raise NoVerdict(f"{path}: not a Trivy report ({type(error).__name__}: {error})") from None


def _ecr(args: argparse.Namespace) -> list[Finding]:
    import boto3  # only this path needs AWS
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client("ecr", region_name=args.region)
    try:
        return ecr_findings(wait_for_ecr_scan(client, args.repository, args.tag, timeout_s=args.timeout_s,
                                              poll_s=args.poll_s))
    except (BotoCoreError, ClientError) as error:
        raise NoVerdict(f"ECR: {error}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gates.image", description=__doc__.split("\n\n")[0])
    parser.add_argument("--registry", type=Path, default=REGISTRY_FILE,
                        help="exception registry (default: %(default)s)")
    parser.add_argument("--env", help="environment whose acknowledgments apply (entries without environments "
                                      "apply everywhere)")
    parser.add_argument("--out", type=Path, help="also write the verdict as JSON here")
    scanners = parser.add_subparsers(dest="scanner", required=True)
    trivy = scanners.add_parser("trivy", help="judge a Trivy JSON report")
    trivy.add_argument("report", type=Path)
    ecr = scanners.add_parser("ecr", help="wait for ECR's scan of a pushed image and judge it")
    ecr.add_argument("--repository", required=True)
    ecr.add_argument("--tag", required=True)
    ecr.add_argument("--region", required=True)
    ecr.add_argument("--timeout-s", type=float, default=900.0)
    ecr.add_argument("--poll-s", type=float, default=15.0)
    return parser


def main(argv: Sequence[str] | None = None, *, today: dt.date | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        registry = load_registry(args.registry)
        findings, artifact = (_read_trivy(args.report) if args.scanner == "trivy"
                              else (_ecr(args), f"{args.repository}:{args.tag}"))
    except RegistryError as error:
        print(f"image gate: error: {error}", file=sys.stderr)
        return GateVerdict.INCONCLUSIVE
    except NoVerdict as error:
        print(f"image gate ({args.scanner}): INCONCLUSIVE: {error}", file=sys.stderr)
        if args.out:
            # No earlier verdict (nor its provenance) may survive a run that could not judge.
            provenance.discard(args.out)
        return GateVerdict.INCONCLUSIVE
    verdict = judge(findings, registry, environment=args.env, today=today or dt.date.today(), scanner=args.scanner,
                    artifact=artifact)
    for finding in verdict.blocking:
        print(f"image gate: blocking: {finding.describe()}", file=sys.stderr)
    for entry in verdict.expired:
        print(f"image gate: acknowledgment {entry} no longer applies; renew it or fix the image", file=sys.stderr)
    for finding, accepted in verdict.acknowledged:
        print(f"image gate: acknowledged by '{accepted.id}': {finding.describe()}")
    for entry in verdict.unused:
        print(f"image gate: note: acknowledgment '{entry}' matched nothing in this image; remove it if it is fixed")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(verdict.to_json(), indent=2) + "\n")
        provenance.write(args.out)
    print(verdict.summary(), file=sys.stderr if verdict.blocking else sys.stdout)
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
