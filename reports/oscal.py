"""OSCAL 1.2 exports of a bundle, for an auditor's GRC tool: a component definition (each stack kind, the controls
it implements and the rules that check them), assessment results (one result per run: an observation per record
and per attestation, a finding per control with its status) and a plan of action and milestones (open gaps,
acknowledgments and stale attestations, each with its owner and the review date as a milestone).

    python -m reports oscal [BUNDLE]      writes BUNDLE/oscal/*.json (default reports/out)

Deterministic: every uuid is a uuid5 of a stable key (framework, control, rule, construct path...), so two runs of
one commit give the same files apart from timestamps. Control ids follow OSCAL: NIST's as in its catalog (``ac-2``,
``sc-28``); HIPAA's and SOC 2's through their catalogs here (``hipaa-164.312-a-2-iv``, ``soc2-cc6.1``).
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from policies.catalog import CATALOG_FILES, Catalog
from reports.controls import matches
from reports.sources.stacks import region_free

OSCAL_VERSION = "1.2.1"  # what compliance-trestle 5.2 models; tests hold both to it
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://records.example.com/oscal")
PROPS_NS = "https://records.example.com/ns/oscal"
NIST_CATALOG = ("https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/"
                "NIST_SP-800-53_rev5_catalog.json")
DOCUMENTS = ("component-definition.json", "assessment-results.json", "poam.json")
# An accepted exception is a deviation, not satisfaction: acknowledged controls are not-satisfied here, and the
# POA&M carries each acknowledgment as a deviation-approved risk.
_SATISFIED = ("pass", "not-applicable")


def stable_uuid(*key: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(str(part) for part in key)))


def control_id(pack: str, control: str) -> str:
    """OSCAL's token form: NIST's own ids lower-cased; the others prefixed and with parentheses as dashes."""
    if pack.startswith("NIST"):
        return control.lower()
    prefix = "hipaa" if pack.startswith("HIPAA") else "soc2"
    token = re.sub(r"[()]+", "-", control.lower()).strip("-")
    return f"{prefix}-{re.sub(r'-{2,}', '-', token)}"


def _source(pack: str) -> str:
    """The catalog the control ids come from: NIST's published one, or ours in this repository."""
    return NIST_CATALOG if pack.startswith("NIST") else f"policies/controls/{CATALOG_FILES[pack].name}"


def _metadata(title: str, evidence: Mapping[str, Any], parties: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    metadata: dict[str, Any] = {"title": title, "last-modified": evidence["generated_at"],
                                "version": str(evidence.get("commit", "unknown")), "oscal-version": OSCAL_VERSION}
    listed = list(parties)
    if listed:
        metadata["parties"] = listed
    return metadata


def _prop(name: str, value: object) -> dict[str, str]:
    return {"name": name, "ns": PROPS_NS, "value": str(value)}


def _packs(catalogs: Mapping[str, Catalog]) -> dict[str, str]:
    """Framework title -> pack."""
    return {catalog.framework: pack for pack, catalog in catalogs.items()}


def component_definition(evidence: Mapping[str, Any], catalogs: Mapping[str, Catalog]) -> dict[str, Any]:
    packs = _packs(catalogs)
    rules_by_kind: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for record in evidence["records"]:
        stack = record["where"].get("stack", "")
        if stack and not stack.startswith("assembly-"):
            rules_by_kind[region_free(stack)].add((record["source"], record["rule"].split("[", 1)[0]))
    components = []
    for kind in sorted(rules_by_kind):
        implementations = []
        for control in evidence["controls"]:
            pack = packs[control["framework"]]
            checking = sorted({f"{source}:{rule}" for source, rule in rules_by_kind[kind]
                               for ref in control["references"] if ref["reference"].split(":", 1)[0] == source
                               and matches(ref["reference"].split(":", 1)[1], rule)})
            if checking:
                implementations.append((pack, control, checking))
        by_pack: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for pack, control, checking in implementations:
            by_pack[pack].append({
                "uuid": stable_uuid("implemented", kind, pack, control["id"]),
                "control-id": control_id(pack, control["id"]),
                "description": f"{kind} resources are checked by {len(checking)} rules: {', '.join(checking)}.",
                "props": [_prop("rule-id", rule) for rule in checking],
            })
        if by_pack:
            components.append({
                "uuid": stable_uuid("component", kind), "type": "service", "title": kind,
                "description": f"The {kind} stacks of the records service (CDK app, every environment and region).",
                "control-implementations": [{
                    "uuid": stable_uuid("implementation", kind, pack), "source": _source(pack),
                    "description": f"{catalogs[pack].framework} controls the {kind} stacks implement.",
                    "implemented-requirements": requirements,
                } for pack, requirements in sorted(by_pack.items())],
            })
    return {"component-definition": {
        "uuid": stable_uuid("component-definition", evidence.get("commit")),
        "metadata": _metadata("Records service: components and the controls they implement", evidence),
        "components": components,
    }}


def _observation(record: Mapping[str, Any], collected: str) -> dict[str, Any]:
    where = record["where"]
    place = " / ".join(part for part in (where.get("env"), where.get("region"), where.get("stack"),
                                         (record.get("detail") or {}).get("construct_path") or where.get("resource"))
                       if part) or "all"
    return {"uuid": stable_uuid("observation", record["source"], record["rule"], *where.values()),
            "title": f"{record['source']} {record['rule']}", "description": f"{record['status']} at {place}",
            "methods": ["TEST"], "types": ["finding"] if record["status"] == "fail" else ["control-objective"],
            "props": [_prop("status", record["status"]), _prop("source", record["source"])],
            "collected": collected}


def _attestation_observation(attestation: Mapping[str, Any], party: str, collected: str) -> dict[str, Any]:
    return {"uuid": stable_uuid("attestation", attestation["id"]), "title": f"Attestation {attestation['id']}",
            "description": attestation["statement"], "methods": ["EXAMINE"], "types": ["control-objective"],
            "props": [_prop("state", attestation["state"]), _prop("expires", attestation["expires"]),
                      _prop("artifact-sha256", attestation.get("artifact_sha256", ""))],
            "origins": [{"actors": [{"type": "party", "actor-uuid": party}]}], "collected": collected}


def _party(attester: str) -> dict[str, Any]:
    return {"uuid": stable_uuid("party", attester), "type": "person", "name": attester}


def assessment_results(evidence: Mapping[str, Any], catalogs: Mapping[str, Catalog]) -> dict[str, Any]:
    packs, collected = _packs(catalogs), evidence["generated_at"]
    attesters = {a["id"]: _attester(a) for a in evidence.get("attestations", [])}
    observations = [_observation(record, collected) for record in evidence["records"]]
    observations += [_attestation_observation(a, stable_uuid("party", attesters[a["id"]]), collected)
                     for a in evidence.get("attestations", [])]
    by_rule: dict[tuple[str, str], list[str]] = defaultdict(list)
    for record, observation in zip(evidence["records"], observations, strict=False):
        by_rule[(record["source"], record["rule"])].append(observation["uuid"])
    findings = []
    for control in evidence["controls"]:
        pack = packs[control["framework"]]
        related = sorted({uid for ref in control["references"] for (source, rule), uids in by_rule.items()
                          if ref["reference"].split(":", 1)[0] == source
                          and matches(ref["reference"].split(":", 1)[1], rule) for uid in uids})
        related += [stable_uuid("attestation", a) for a in control.get("attestations", [])]
        finding: dict[str, Any] = {
            "uuid": stable_uuid("finding", pack, control["id"]),
            "title": f"{control['framework']} {control['id']}",
            "description": f"{control['title']}: {control['status']} ({control['assessment']})",
            "props": [_prop("status", control["status"]), _prop("assessment", control["assessment"])],
            "target": {"type": "objective-id", "target-id": f"{control_id(pack, control['id'])}_obj",
                       "status": {"state": "satisfied" if control["status"] in _SATISFIED else "not-satisfied"}},
        }
        if related:
            finding["related-observations"] = [{"observation-uuid": uid} for uid in related]
        findings.append(finding)
    return {"assessment-results": {
        "uuid": stable_uuid("assessment-results", evidence.get("commit")),
        "metadata": _metadata("Records service: assessment results", evidence,
                              [_party(name) for name in sorted(set(attesters.values()))]),
        "import-ap": {"href": "#assessment-plan-not-published"},
        "results": [{
            "uuid": stable_uuid("result", evidence.get("commit")),
            "title": f"Evidence bundle of commit {evidence.get('commit')}",
            "description": "The gates' records (cdk-nag, guards, checkov, cfn-lint, tests, drills, load, image, SBOM)"
                           " and the attestations, judged per control.",
            "start": evidence["generated_at"],
            "reviewed-controls": {"control-selections": [{"include-all": {}}]},
            "observations": observations, "findings": findings,
        }],
    }}


def _attester(attestation: Mapping[str, Any]) -> str:
    return str(attestation.get("attested_by") or "unnamed")  # "role: name", as the evidence shows it


def _deadline(day: str) -> str:
    return f"{day}T23:59:59Z"


def poam(evidence: Mapping[str, Any], catalogs: Mapping[str, Catalog]) -> dict[str, Any]:
    del catalogs  # the items name controls by framework title; the same signature as the other documents
    items: list[tuple[str, str, str, str, str]] = []  # (key, title, description, owner, review date)
    for control in evidence["controls"]:
        if control["status"] == "gap":
            items.append((f"gap:{control['framework']}:{control['id']}",
                          f"No evidence source for {control['framework']} {control['id']}",
                          f"{control['title']}: no check or procedure is defined for it; nobody owns it yet, which "
                          "is the first thing to fix", "unassigned", ""))
    for ack in evidence.get("acknowledgments", []):
        items.append((f"acknowledgment:{ack['id']}", f"Accepted finding: {ack['id']}",
                      f"{', '.join(ack['rules'])}: {ack['reason']}", ack["owner"], ack["expires"]))
    for attestation in evidence.get("attestations", []):
        if attestation["state"] == "stale":
            items.append((f"attestation:{attestation['id']}", f"Stale attestation: {attestation['id']}",
                          attestation["statement"], _attester(attestation), attestation["expires"]))
    owners = sorted({owner for *_, owner, _ in items})
    risks, poam_items = [], []
    for key, title, description, owner, review in items:
        risk: dict[str, Any] = {
            "uuid": stable_uuid("risk", key), "title": title, "description": description,
            "statement": description, "status": "deviation-approved" if key.startswith("acknowledgment") else "open",
            "props": [_prop("owner", owner)],
        }
        if review:
            risk["deadline"] = _deadline(review)
            risk["remediations"] = [{
                "uuid": stable_uuid("response", key), "lifecycle": "planned", "title": f"Review {title}",
                "description": f"{owner} reviews it by {review}.",
                "tasks": [{"uuid": stable_uuid("milestone", key), "type": "milestone", "title": f"Review by {review}",
                           "timing": {"on-date": {"date": _deadline(review)}}}],
            }]
        risks.append(risk)
        poam_items.append({"uuid": stable_uuid("poam-item", key), "title": title, "description": description,
                           "props": [_prop("owner", owner)] + ([_prop("review-date", review)] if review else []),
                           "related-risks": [{"risk-uuid": risk["uuid"]}]})
    document: dict[str, Any] = {
        "uuid": stable_uuid("poam", evidence.get("commit")),
        "metadata": _metadata("Records service: plan of action and milestones", evidence,
                              [{"uuid": stable_uuid("party", o), "type": "organization", "name": o} for o in owners]),
        "poam-items": poam_items,
    }
    if risks:
        document["risks"] = risks
    return {"plan-of-action-and-milestones": document}


def export(bundle: Path, catalogs: Mapping[str, Catalog]) -> list[Path]:
    evidence = json.loads((bundle / "evidence.json").read_text())
    folder = bundle / "oscal"
    folder.mkdir(exist_ok=True)
    written = []
    for name, build in zip(DOCUMENTS, (component_definition, assessment_results, poam), strict=True):
        path = folder / name
        path.write_text(json.dumps(build(evidence, catalogs), indent=1, sort_keys=False) + "\n")
        written.append(path)
    return written


def timestamp_free(document: object) -> object:
    """The document without its timestamps: what two runs of one commit must agree on."""
    if isinstance(document, dict):
        return {k: timestamp_free(v) for k, v in document.items()
                if k not in ("last-modified", "collected", "start", "end")}
    if isinstance(document, list):
        return [timestamp_free(item) for item in document]
    return document

