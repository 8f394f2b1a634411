"""The service image's software bill of materials (CycloneDX JSON, ``image/sbom.cdx.json``, from Trivy in CI's
image job): one record, the inventory, passing when it lists components. Its sha256 reaches the bundle's manifest
with the copied inputs, so an auditor can tie the inventory to the bundle.

An SBOM that lists nothing proves no inventory: inconclusive, never a pass."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from reports.model import Collected, Record, Source, SourceRun, Status, Where, not_collected

RULE = "components"
_COMMAND = "trivy image --format cyclonedx --output image/sbom.cdx.json (CI's image job)"


def collect(path: Path) -> Collected:
    if not path.exists():
        return not_collected(Source.SBOM, f"{path} not found: run {_COMMAND}", (path,))
    bom = json.loads(path.read_text())
    if not isinstance(bom, dict) or bom.get("bomFormat") != "CycloneDX":
        raise ValueError(f"{path}: not a CycloneDX JSON document (bomFormat is not CycloneDX)")
    components = bom.get("components") or []
    if not isinstance(components, list):
        raise TypeError(f"{path}: components is {type(components).__name__}, not a list")
    subject = (bom.get("metadata") or {}).get("component") or {}
    by_type = Counter(str(component.get("type", "unknown")) for component in components)
    record = Record(
        source=Source.SBOM, rule=RULE, where=Where(resource=str(subject.get("name", ""))),
        status=Status.PASS if components else Status.INCONCLUSIVE,
        title=f"{len(components)} components in the image's inventory",
        detail={"components": len(components), "by_type": dict(sorted(by_type.items())),
                "spec_version": bom.get("specVersion"), "serial_number": bom.get("serialNumber", "")},
    )
    return Collected(run=SourceRun(source=Source.SBOM, collected=True, inputs=(path,)), records=(record,))
