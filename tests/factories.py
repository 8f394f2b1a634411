"""Factories with overrides for test records shared across test modules."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from policies.acknowledgments import NAG_SOURCES


def acknowledgment_entry(**overrides: Any) -> dict[str, Any]:
    """One registry entry as it would appear in policies/acknowledgments.yaml; overrides replace fields. Only an
    entry with nag rules states ``accepts`` (unless the overrides say otherwise)."""
    entry = {
        "id": "public-alb",
        "rules": ["AwsSolutions::AwsSolutions-EC23"],
        "paths": ["*/Service-*/Alb/SecurityGroup/Resource"],
        "reason": "The ALB is the public entry point and must accept HTTPS from anyone.",
        "owner": "platform-networking",
        "expires": "2027-03-01",
        "accepts": 2,
        **overrides,
    }
    if "accepts" not in overrides and not any(rule.split("::")[0] in NAG_SOURCES for rule in entry["rules"]):
        del entry["accepts"]
    return entry


def stale_entry(**overrides: Any) -> dict[str, Any]:
    """An entry on a real construct whose rule reports nothing there: it must fail as unused."""
    return acknowledgment_entry(**{
        "id": "stale-bucket-exception",
        "rules": ["AwsSolutions::AwsSolutions-S1"],
        "paths": ["*/Keys-use1/DataKey/Resource"],
        "reason": "Pretend exception that no longer suppresses anything at all.",
        "owner": "platform",
        "expires": "2027-02-01",
        "accepts": 1,
        **overrides,
    })


def vulnerability(cve: str, severity: str, package: str = "zlib1g", fixed: str = "") -> dict[str, str]:
    """One finding as Trivy reports it."""
    return {"VulnerabilityID": cve, "PkgName": package, "InstalledVersion": "1:1.2.13", "FixedVersion": fixed,
            "Severity": severity, "Title": f"{package}: something bad"}


def trivy_report(*vulnerabilities: dict[str, str]) -> dict[str, Any]:
    """A Trivy JSON report (schema 2) of a Debian image with these findings."""
    return {
        "SchemaVersion": 2,
        "ArtifactName": "records-service:abc123",
        "ArtifactType": "container_image",
        "Results": [
            {"Target": "records-service:abc123 (debian 12.12)", "Class": "os-pkgs", "Type": "debian",
             "Vulnerabilities": list(vulnerabilities) or None},
            {"Target": "Python", "Class": "lang-pkgs", "Type": "python-pkg"},
        ],
    }


def write_attestation(root: Path, **overrides: Any) -> Path:
    """``root/attestations/training.yaml``, a complete attestation of yearly training (HIPAA 164.308(a)(5)(i))
    whose artifact is ``root/record.md``; overrides replace fields."""
    (root / "record.md").write_text("trained: 42 of 42\n")
    document = {
        "id": "training-2026", "status": "attested", "controls": ["HIPAA.Security:164.308(a)(5)(i)"],
        "statement": "Everyone with access completed the yearly training.",
        "attested_by": {"role": "Security Officer", "name": "A. Person"}, "attested_on": "2026-11-01",
        "expires": "2027-10-31",
        "artifact": {"path": "record.md", "sha256": hashlib.sha256(b"trained: 42 of 42\n").hexdigest()},
        **overrides,
    }
    (root / "attestations").mkdir(exist_ok=True)
    path = root / "attestations" / "training.yaml"
    path.write_text(yaml.safe_dump(document))
    return path
