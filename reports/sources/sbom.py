"""The service image's software bill of materials (CycloneDX JSON, ``image/sbom.cdx.json``, from Trivy in CI's
image job): one record, the inventory, passing when it lists components. Its sha256 reaches the bundle's manifest
with the copied inputs, so an auditor can tie the inventory to the bundle.

An SBOM that lists nothing, or lists components without names, proves no inventory: inconclusive, never a pass.
``same_image`` checks that the inventory and the vulnerability verdict are of one image."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from reports.model import Collected, Record, Source, SourceRun, Status, Where, not_collected
from reports.sources.image import RULE as IMAGE_RULE

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
    named = [c for c in components if isinstance(c, dict) and str(c.get("name") or "").strip()]
    by_type = Counter(str(component.get("type", "unknown")) for component in named)
    unnamed = len(components) - len(named)
    record = Record(
        source=Source.SBOM, rule=RULE, where=Where(resource=str(subject.get("name", ""))),
        # An entry without a name inventories nothing; a list of them is not an inventory.
        status=Status.PASS if named and not unnamed else Status.INCONCLUSIVE,
        title=f"{len(named)} components in the image's inventory",
        detail={"components": len(named), "unnamed": unnamed, "by_type": dict(sorted(by_type.items())),
                "spec_version": bom.get("specVersion"), "serial_number": bom.get("serialNumber", "")},
    )
    return Collected(run=SourceRun(source=Source.SBOM, collected=True, inputs=(path,)), records=(record,))


def same_image(sbom: Collected, image: Collected) -> Collected:
    """The SBOM, inconclusive when the image gate judged another image: an inventory of one build and the scan
    of another prove nothing together. Images are compared by tag (the git sha), the one name both the local
    build (Trivy) and ECR (``repository:tag``) share."""
    if not (sbom.run.collected and image.run.collected):
        return sbom
    scanned = next((r.where.resource for r in image.records if r.rule == IMAGE_RULE), "")
    records = []
    for record in sbom.records:
        inventoried = record.where.resource
        if scanned.rpartition(":")[2] != inventoried.rpartition(":")[2]:
            record = record.model_copy(update={"status": Status.INCONCLUSIVE, "detail": {
                **record.detail, "problem": f"an inventory of {inventoried or '(unnamed)'}, but the image gate "
                                           f"judged {scanned or '(unnamed)'}"}})
        records.append(record)
    return sbom.model_copy(update={"records": tuple(records)})
