from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import jsonschema
import pytest

import reports.__main__ as cli
from gates import custody, provenance
from gates.custody import CustodyBroken, sha256
from policies.attestations import load_attestations
from policies.catalog import load_catalogs
from reports import manifest
from reports.__main__ import SCHEMA_FILE, generate
from reports.freshness import RELEASE_MAX_AGE_DAYS, release_max_age_days, staleness
from tests.factories import vulnerability, write_attestation
from tests.reports.conftest import FakeGates, checkov_item, nag_finding

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
REQUIRED = ["nag", "aspect", "checkov", "cfn-lint", "resilience"]


def _generate(gates, out: Path, required=REQUIRED, **options) -> int:
    return generate(gates.inputs, out, required=required, take_screenshot=False, now=NOW, **options)


@dataclass(frozen=True)
class Generated:
    gates: FakeGates
    out: Path
    line: str


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Generated:
    """One bundle from every static gate's output, generated once: printing its PDF is most of a second each."""
    gates = FakeGates(tmp_path_factory.mktemp("gates")).all_static()
    out = tmp_path_factory.mktemp("bundle") / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert _generate(gates, out) == 0
    return Generated(gates, out, printed.getvalue())


@pytest.fixture
def bundle(generated, tmp_path) -> Path:
    """This test's own copy of the module's bundle, free to alter."""
    return Path(shutil.copytree(generated.out, tmp_path / "out"))


def test_the_bundle_holds_every_output(generated, bundle):
    assert generated.line.startswith("evidence: PASS: ")
    names = {p.name for p in bundle.iterdir()}
    assert names >= {"evidence.json", "index.html", "evidence.pdf", "evidence.sarif", "junit.xml", "controls.png",
                     "sources.png", "resilience.png", "bundle.json", "MANIFEST.sha256", "inputs"}
    assert (bundle / "evidence.pdf").read_bytes().startswith(b"%PDF")
    copied = {p.relative_to(bundle / "inputs").as_posix() for p in (bundle / "inputs").rglob("*") if p.is_file()}
    assert copied >= {"cdk.out/validation-report.json", "cdk.out/checkov.json", "cdk.out/guards.json",
                      "cdk.out/cfn-lint.json", "cdk.out/resilience.json", "cdk.out/assembly-dev/manifest.json",
                      "cdk.out/assembly-dev/devData-use2.template.json", "cdk.out/custody.json"}


def test_the_bundle_records_the_digests_synth_judged(generated, bundle):
    judged = json.loads((bundle / "bundle.json").read_text())["judged_by_synth"]
    template = "assembly-dev/devData-use2.template.json"
    assert judged[template] == sha256(generated.gates.cdk_out / template)
    assert set(judged) >= {"validation-report.json", "guards.json"}


def test_each_acknowledgment_shows_the_findings_it_suppressed(generated, bundle):
    uses = {use["id"]: use for use in json.loads((bundle / "evidence.json").read_text())["acknowledgments"]}
    assert uses["access-log-sink-buckets-not-logged"]["findings"] == {"dev": 1}
    page = (bundle / "index.html").read_text()
    assert "<th>findings suppressed</th>" in page and "<td>dev 1</td>" in page


def test_evidence_json_follows_the_committed_schema(bundle):
    schema = json.loads(SCHEMA_FILE.read_text())
    document = json.loads((bundle / "evidence.json").read_text())
    jsonschema.validate(document, schema)
    assert document["schema_version"] == "1.8.0" and document["generated_at"] == "2026-11-23T12:00:00+00:00"


def test_the_committed_schema_matches_the_model(capsys):
    assert cli.main(["schema", "--check"]) == 0


def test_sources_that_did_not_run_are_reported_as_not_collected(bundle):
    document = json.loads((bundle / "evidence.json").read_text())
    runs = {run["source"]: run for run in document["sources"]}
    assert runs["drill"]["collected"] is False and runs["unit"]["collected"] is False
    assert not [r for r in document["records"] if r["source"] in ("drill", "unit", "load")]
    cp4 = [c for c in document["controls"] if c["id"] == "CP-4"][0]
    assert cp4["status"] == "not-collected"
    # The fake assembly holds S3 buckets only: controls resting on other services' rules judged nothing.
    not_applicable = [c for c in document["controls"] if c["status"] == "not-applicable"]
    assert not_applicable
    assert all(r["status"] == "not-applicable" for c in not_applicable for r in c["references"])
    suites = {s.get("name"): s for s in ET.parse(bundle / "junit.xml").getroot()}
    assert suites["drill"].find("testcase/skipped").get("message").startswith("not collected")


def test_acknowledged_findings_are_suppressed_results_in_sarif(bundle):
    sarif = json.loads((bundle / "evidence.sarif").read_text())
    results = [r for run in sarif["runs"] for r in run["results"]]
    assert results and all(r["suppressions"][0]["kind"] == "external" for r in results)
    assert "owner platform-security" in results[0]["suppressions"][0]["justification"]


def test_a_failed_record_fails_the_gate(no_printing, gates, tmp_path, capsys):
    gates.all_static(violations=[nag_finding("HIPAA.Security-RDSStorageEncrypted", "dev/Data-use2/Logs/Resource")])
    assert _generate(gates, tmp_path / "out") == 1
    assert capsys.readouterr().out.startswith("evidence: FAIL: ")
    sarif = json.loads((tmp_path / "out" / "evidence.sarif").read_text())
    errors = [r for run in sarif["runs"] for r in run["results"] if r["level"] == "error"]
    assert errors[0]["ruleId"] == "HIPAA.Security-RDSStorageEncrypted"


def test_gate_results_of_an_earlier_synthesis_are_refused(no_printing, gates, tmp_path):
    gates.all_static()
    gates.synth()  # synthesized again after checkov and cfn-lint judged the first one
    with pytest.raises(CustodyBroken, match="cfn-lint.json: judged another synthesis than"):
        _generate(gates, tmp_path / "out")


def test_a_required_source_that_did_not_run_is_inconclusive_never_a_pass(no_printing, gates, tmp_path, capsys):
    gates.all_static()
    (gates.cdk_out / "checkov.json").unlink()
    assert _generate(gates, tmp_path / "out") == 2
    line = capsys.readouterr().out
    assert line.startswith("evidence: INCONCLUSIVE: ") and "(required: checkov)" in line


def test_the_cli_reports_bad_input_without_a_traceback(gates, tmp_path, capsys, monkeypatch):
    gates.all_static()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    monkeypatch.chdir(gates.root)
    assert cli.main(["--out", str(other), "--cdk-out", str(gates.cdk_out)]) == 2
    assert "holds other files" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        cli.main(["--require", "nag,prowler"])
    assert usage.value.code == 2


def test_verify_passes_an_untouched_bundle_and_fails_an_altered_one(bundle, capsys):
    assert cli.main(["verify", str(bundle)]) == 0
    document = json.loads((bundle / "evidence.json").read_text())
    document["records"][0]["status"] = "pass"
    (bundle / "evidence.json").write_text(json.dumps(document) + " ")
    assert cli.main(["verify", str(bundle)]) == 1
    assert "evidence.json: altered" in capsys.readouterr().err


@pytest.mark.parametrize("tamper, problem", [
    (lambda b: (b / "evidence.pdf").unlink(), "evidence.pdf: missing"),
    (lambda b: (b / "extra.html").write_text("<p>injected</p>"), "extra.html: not in the manifest"),
    (lambda b: (b / "inputs" / "cdk.out" / "checkov.json").write_text("{}"), "checkov.json: altered"),
])
def test_verify_catches_removed_added_and_changed_files(bundle, tamper, problem):
    tamper(bundle)
    result = manifest.verify(bundle)
    assert any(problem in p for p in result.problems)


def test_verify_without_a_manifest_is_inconclusive(tmp_path, capsys):
    assert cli.main(["verify", str(tmp_path)]) == 2
    assert cli.main(["verify"]) == 2


def test_a_new_bundle_replaces_an_earlier_one(no_printing, bundle, generated):
    (bundle / "stale.txt").write_text("from an earlier run")
    assert _generate(generated.gates, bundle) == 0
    assert not (bundle / "stale.txt").exists() and manifest.verify(bundle).problems == []


def test_the_manifest_is_sha256sum_compatible(bundle):
    if shutil.which("sha256sum") is None:
        pytest.skip("coreutils absent")
    import subprocess

    done = subprocess.run(["sha256sum", "--check", "--strict", "--quiet", manifest.MANIFEST], cwd=bundle,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_page_that_renders_with_errors_makes_the_bundle_inconclusive(no_printing, gates, tmp_path, monkeypatch, capsys):
    from reports.render import screenshot

    gates.all_static()
    monkeypatch.setattr(screenshot, "capture", lambda page, png, **_: screenshot.Rendering(["TypeError: x"], 0, ""))
    code = generate(gates.inputs, tmp_path / "out", required=REQUIRED, take_screenshot=True, now=NOW)
    assert code == 2
    captured = capsys.readouterr()
    assert "console errors ['TypeError: x'], 0 control rows" in captured.err
    assert captured.out.startswith("evidence: INCONCLUSIVE: ")


def test_a_failed_pdf_is_reported_not_hidden(gates, tmp_path, monkeypatch, capsys):
    from reports.render import pdf

    def broken(page, base, path):
        raise OSError("no fonts")

    gates.all_static()
    monkeypatch.setattr(pdf, "write", broken)
    monkeypatch.chdir(gates.root)
    assert cli.main(["--out", str(tmp_path / "out"), "--cdk-out", str(gates.cdk_out),
                     "--junit", str(gates.inputs.junit)]) == 2
    assert "the printing process exited 1" in capsys.readouterr().err


def test_no_procedural_control_passes_without_an_unexpired_attestation(generated, bundle):
    document = json.loads((bundle / "evidence.json").read_text())
    valid = {a["id"] for a in document["attestations"] if a["state"] == "valid"}
    procedural = [c for c in document["controls"] if c["assessment"] == "procedural"]
    assert procedural and all(c["status"] != "pass" or set(c["attestations"]) & valid for c in procedural)
    # Only examples ship, so every procedural control waits for a person.
    assert {c["status"] for c in procedural} <= {"needs-attestation"}


def test_each_attestation_and_its_artifact_are_in_the_bundle(bundle):
    listed = (bundle / manifest.MANIFEST).read_text()
    for name in ("example-security-training.yaml", "security-training-record.template.md"):
        copy = bundle / "inputs" / "attestations" / name
        assert copy.is_file() and f"{sha256(copy)}  inputs/attestations/{name}" in listed


def test_the_evidence_line_counts_each_frameworks_controls_by_status(generated, bundle):
    document = json.loads((bundle / "evidence.json").read_text())
    soc2 = Counter(c["status"] for c in document["controls"] if c["framework"] == "SOC 2 Trust Services Criteria")
    expected = (f"SOC 2 TSC {sum(soc2.values())} criteria: {soc2['pass']} pass, {soc2['acknowledged']} acknowledged, "
                f"{soc2['stale']} stale, {soc2['needs-attestation']} needs attestation, {soc2['gap']} gap")
    assert soc2 and f"; {expected}" in generated.line
    assert re.search(r"; HIPAA Security Rule \d+ controls: \d+ pass, \d+ acknowledged, \d+ stale, "
                     r"\d+ needs attestation, \d+ gap[;,]", generated.line)


def test_the_page_explains_the_statuses_and_lists_the_attestations(generated, bundle):
    page = (bundle / "index.html").read_text()
    assert '<h2 id="legend">' in page and 'id="legend-table"' in page and "needs-attestation" in page
    assert 'id="attestation-table"' in page and "example-security-training" in page


def test_every_resource_is_counted_and_an_uncovered_type_is_listed_as_not_assessed(no_printing, gates, tmp_path):
    # An EIP is of a service cdk-nag has rules for (ec2), but no rule's code inspects it.
    gates.synth(extra_resources={"Waiter": {"Type": "AWS::CloudFormation::WaitConditionHandle"},
                                 "Address": {"Type": "AWS::EC2::EIP"}})
    gates.checkov(passed=[checkov_item("CKV_AWS_21", "assembly-dev/devData-use1.template.json", "AWS::S3::Bucket.Logs")])
    gates.cfn_lint()
    _generate(gates, tmp_path / "out")
    population = json.loads((tmp_path / "out" / "evidence.json").read_text())["completeness"]
    assert population["resources"] == 6 and population["places"] == 2
    both = ["dev/us-east-1", "dev/us-east-2"]
    assert population["not_assessed"] == [
        {"type": "AWS::CloudFormation::WaitConditionHandle", "resources": 2, "places": both},
        {"type": "AWS::EC2::EIP", "resources": 2, "places": both}]
    checkov = next(p for p in population["sources"] if p["source"] == "checkov")
    # checkov judged one of the two buckets: the page flags it.
    assert checkov["short"] == {"AWS::S3::Bucket": "1/2"}
    page = (tmp_path / "out" / "index.html").read_text()
    assert 'id="population-table"' in page and "AWS::CloudFormation::WaitConditionHandle" in page


def _junit(gates: FakeGates) -> None:
    gates.write(gates.inputs.junit, '<testsuites><testsuite name="pytest"><testcase classname="tests.t" name="test_a"'
                ' time="0.1"/></testsuite></testsuites>')


@pytest.fixture
def release_gates(gates, monkeypatch) -> FakeGates:
    """Static gates and a test run, all of the commit being released ("fake-synth", as the fake custody says)."""
    monkeypatch.setattr(cli, "current_commit", lambda: "fake-synth")
    gates.all_static()
    _junit(gates)
    return gates


def test_a_release_refuses_a_test_run_of_another_commit(no_printing, release_gates, tmp_path, capsys):
    provenance.write(release_gates.inputs.junit, commit="0123456789abcdef", at=NOW)
    assert _generate(release_gates, tmp_path / "out", required=[*REQUIRED, "unit"], release=True) == 1
    line = capsys.readouterr().out
    assert line.startswith("evidence: FAIL: ") and "; stale: unit (required);" in line
    runs = {run["source"]: run for run in json.loads((tmp_path / "out" / "evidence.json").read_text())["sources"]}
    assert runs["unit"]["stale"] == "from commit 0123456789ab, not fake-synth" and runs["unit"]["commit"]
    assert runs["nag"]["stale"] == "" and runs["nag"]["commit"] == "fake-synth"
    page = (tmp_path / "out" / "index.html").read_text()
    assert 'title="from commit 0123456789ab, not fake-synth">stale</span>' in page


def test_a_release_input_may_be_no_older_than_the_strictest_control_allows():
    catalogs = load_catalogs()
    nist = catalogs["NIST.800.53.R5"]
    strict = nist.model_copy(update={"controls": (
        nist.controls[0].model_copy(update={"max_evidence_age_days": 7}), *nist.controls[1:])})
    assert release_max_age_days(catalogs) == RELEASE_MAX_AGE_DAYS  # no shipped control asks for less than 30 days
    assert release_max_age_days({**catalogs, "NIST.800.53.R5": strict}) == 7
    found = provenance.Provenance("fake-synth", NOW - dt.timedelta(days=8))
    assert staleness(found, commit="fake-synth", now=NOW, max_age_days=7).startswith("older than 7 days")


@pytest.mark.parametrize("write, stale", [
    (None, "no provenance (commit, time and digest) beside the result"),
    (dict(commit="fake-synth", at=NOW - dt.timedelta(days=45)), "older than 30 days"),
    (dict(commit="fake-synth", at=NOW + dt.timedelta(days=3650)), "produced in the future"),
    (dict(commit="fake-synth", at=NOW), ""),
])
def test_a_release_input_needs_provenance_of_this_commit_and_a_recent_time(no_printing, release_gates, tmp_path,
                                                                           write, stale):
    if write:
        provenance.write(release_gates.inputs.junit, **write)
    code = _generate(release_gates, tmp_path / "out", required=[*REQUIRED, "unit"], release=True)
    runs = {run["source"]: run for run in json.loads((tmp_path / "out" / "evidence.json").read_text())["sources"]}
    assert runs["unit"]["stale"].startswith(stale) and (code == 1) is bool(stale)


def test_outside_a_release_provenance_is_shown_and_nothing_is_stale(no_printing, release_gates, tmp_path):
    provenance.write(release_gates.inputs.junit, commit="0123456789abcdef", at=NOW)
    assert _generate(release_gates, tmp_path / "out", required=[*REQUIRED, "unit"]) == 0
    runs = {run["source"]: run for run in json.loads((tmp_path / "out" / "evidence.json").read_text())["sources"]}
    assert runs["unit"]["commit"] == "0123456789abcdef" and runs["unit"]["stale"] == ""


def test_the_image_scan_and_sbom_reach_their_controls_and_the_manifest(no_printing, release_gates, tmp_path):
    release_gates.image(vulnerability("CVE-2026-3333", "MEDIUM"))
    release_gates.sbom(components=4)
    assert _generate(release_gates, tmp_path / "out", required=[*REQUIRED, "image", "sbom"]) == 0
    document = json.loads((tmp_path / "out" / "evidence.json").read_text())
    controls = {(c["framework"], c["id"]): c for c in document["controls"]}
    refs = {r["reference"]: r["status"] for r in controls[("NIST SP 800-53 Revision 5", "RA-5")]["references"]}
    assert refs["image:vulnerabilities"] == "pass"
    cc71 = {r["reference"] for r in controls[("SOC 2 Trust Services Criteria", "CC7.1")]["references"]}
    assert {"image:vulnerabilities", "sbom:components", "nist:RA-5"} <= cc71
    manifest_lines = (tmp_path / "out" / manifest.MANIFEST).read_text().splitlines()
    assert f"{sha256(release_gates.inputs.sbom)}  inputs/sbom.cdx.json" in manifest_lines


def test_a_blocking_image_finding_fails_the_bundle_and_a_missing_sbom_is_not_collected(no_printing, release_gates,
                                                                                       tmp_path, capsys):
    release_gates.image(vulnerability("CVE-2026-2222", "CRITICAL", "openssl"))
    capsys.readouterr()
    assert _generate(release_gates, tmp_path / "out", required=[*REQUIRED, "image"]) == 1
    line = capsys.readouterr().out
    assert "not collected: drill, load, sbom, delivery, config, drift;" in line
    assert _generate(release_gates, tmp_path / "out2", required=[*REQUIRED, "sbom"]) == 1  # the failure still counts


def test_a_release_needs_the_sboms_provenance(no_printing, release_gates, tmp_path, capsys):
    release_gates.sbom()
    required = [*REQUIRED, "sbom"]
    assert _generate(release_gates, tmp_path / "out", required=required, release=True) == 1
    assert "; stale: unit, sbom (required);" in capsys.readouterr().out
    provenance.write(release_gates.inputs.sbom, commit="fake-synth", at=NOW)
    assert _generate(release_gates, tmp_path / "out", required=required, release=True) == 0


def _pdf_pages(pdf_path: Path, out: Path) -> list[tuple[str, Path]]:
    """Each page of the PDF as its text and a PNG rendering (PDFium, at 1 px per point)."""
    import pypdfium2

    pages = []
    document = pypdfium2.PdfDocument(pdf_path)
    try:
        for number, page in enumerate(document, start=1):
            png = out / f"page-{number}.png"
            page.render(scale=1).to_pil().save(png)
            # PDFium reports a hyphen WeasyPrint may break at as U+FFFE, and lines end in CR LF.
            text = page.get_textpage().get_text_range().replace("\ufffe", "-")
            pages.append((" ".join(text.split()), png))
    finally:
        document.close()
    return pages


def test_the_pdf_shows_the_legend_first_then_the_population_and_an_attestation_row(generated, tmp_path):
    from PIL import Image, ImageStat

    pages = _pdf_pages(generated.out / "evidence.pdf", tmp_path)
    first_text, first_png = pages[0]
    assert "What the statuses mean" in first_text and "needs-attestation" in first_text
    assert "only a person can prove this control" in first_text
    population = [n for n, (text, _) in enumerate(pages) if "Population: what each source evaluated" in text]
    attestation = [n for n, (text, _) in enumerate(pages) if "example-security-training" in text]
    assert population and attestation
    assert "The templates hold 2 resources in 2 environment and region combinations" in pages[population[0]][0]
    for _, png in (pages[0], pages[population[0]], pages[attestation[0]]):
        with Image.open(png) as image:
            assert image.format == "PNG" and image.width > image.height  # A4 landscape
            # Drawn, not blank: text and badges darken part of the page.
            assert ImageStat.Stat(image.convert("L")).extrema[0][0] < 100


def test_a_valid_attestation_passes_its_procedural_control_and_an_altered_artifact_stops_the_bundle(
        no_printing, gates, tmp_path, capsys, monkeypatch):
    gates.all_static()
    write_attestation(tmp_path, controls=["NIST.800.53.R5:AT-2"])
    monkeypatch.setattr(cli, "load_attestations", lambda catalogs, today: load_attestations(
        catalogs, today, directory=tmp_path / "attestations", root=tmp_path))
    assert _generate(gates, tmp_path / "out") == 0
    controls = {c["id"]: c for c in json.loads((tmp_path / "out" / "evidence.json").read_text())["controls"]
                if c["framework"] == "NIST SP 800-53 Revision 5"}
    assert controls["AT-2"]["assessment"] == "procedural"
    assert (controls["AT-2"]["status"], controls["AT-2"]["attestations"]) == ("pass", ["training-2026"])
    (tmp_path / "record.md").write_text("trained: 41 of 42\n")
    monkeypatch.chdir(gates.root)
    assert cli.main(["--out", str(tmp_path / "out"), "--cdk-out", str(gates.cdk_out)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("evidence: INCONCLUSIVE: training.yaml: artifact.sha256: does not match record.md (sha256 ")


def test_a_release_judges_every_input_of_a_source_not_only_the_oldest(no_printing, release_gates, tmp_path):
    shards = tmp_path / "shards"
    for shard, commit, at in (("infrastructure", "fake-synth", NOW - dt.timedelta(days=1)),
                              ("runtime", "0123456789abcdef", NOW)):
        release_gates.write(shards / f"junit-{shard}.xml", (release_gates.inputs.junit).read_text()
                            .replace("test_a", f"test_{shard}"))
        provenance.write(shards / f"junit-{shard}.xml", commit=commit, at=at)
    gates = FakeGates(release_gates.root)
    gates.inputs = replace(release_gates.inputs, junit=shards)
    assert _generate(gates, tmp_path / "out", required=[*REQUIRED, "unit"], release=True) == 1
    runs = {run["source"]: run for run in json.loads((tmp_path / "out" / "evidence.json").read_text())["sources"]}
    assert runs["unit"]["stale"] == "from commit 0123456789ab, not fake-synth"
    assert runs["unit"]["commit"] == "0123456789abcdef, fake-synth"


def test_a_result_changed_after_its_provenance_was_written_has_none(release_gates):
    provenance.write(release_gates.inputs.junit, commit="fake-synth", at=NOW)
    assert provenance.read(release_gates.inputs.junit) is not None
    release_gates.inputs.junit.write_text(release_gates.inputs.junit.read_text().replace("test_a", "test_b"))
    assert provenance.read(release_gates.inputs.junit) is None
    provenance.write(release_gates.inputs.junit, commit="fake-synth", at=NOW.replace(tzinfo=None))
    assert provenance.read(release_gates.inputs.junit) is None  # a time without a zone compares with nothing


def test_an_old_synthesis_is_stale_in_a_release_however_its_files_were_copied(no_printing, gates, tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(cli, "current_commit", lambda: "fake-synth")
    gates.all_static()
    custody.record(gates.cdk_out, commit="fake-synth", passed=True, at=NOW - dt.timedelta(days=40))
    gates.checkov(passed=[checkov_item("CKV_AWS_21", "assembly-dev/devData-use1.template.json", "AWS::S3::Bucket.Logs")])
    gates.cfn_lint()
    gates.resilience()
    assert _generate(gates, tmp_path / "out", release=True) == 1
    runs = {run["source"]: run for run in json.loads((tmp_path / "out" / "evidence.json").read_text())["sources"]}
    assert {runs[s]["stale"][:18] for s in REQUIRED} == {"older than 30 days"}


@pytest.mark.parametrize("commit", ["0123456789abcdef+uncommitted-changes", "unknown (not a git checkout)"])
def test_a_release_of_no_single_clean_commit_is_refused(release_gates, tmp_path, capsys, monkeypatch, commit):
    monkeypatch.setattr(cli, "current_commit", lambda: commit)
    monkeypatch.chdir(release_gates.root)
    assert cli.main(["--out", str(tmp_path / "out"), "--cdk-out", str(release_gates.cdk_out), "--release"]) == 2
    assert f"a release bundle needs a clean commit, not {commit!r}" in capsys.readouterr().err


def test_a_stale_source_backs_no_control_even_when_not_required(no_printing, release_gates, tmp_path, capsys):
    provenance.write(release_gates.inputs.junit, commit="0123456789abcdef", at=NOW)

    def unit_references(out: Path) -> set[str]:
        document = json.loads((out / "evidence.json").read_text())
        return {ref["status"] for c in document["controls"] for ref in c["references"]
                if ref["reference"].startswith("unit:")}

    assert _generate(release_gates, tmp_path / "plain") == 0
    assert "not-collected" not in unit_references(tmp_path / "plain")
    capsys.readouterr()
    assert _generate(release_gates, tmp_path / "release", release=True) == 0  # unit is not required here
    assert unit_references(tmp_path / "release") == {"not-collected"}
    assert "; stale: unit; report " in capsys.readouterr().out  # named on the line, not marked required


def test_a_failed_synthesis_makes_a_failing_bundle_that_shows_why(no_printing, gates, tmp_path, capsys):
    gates.all_static()
    custody.record(gates.cdk_out, commit="fake-synth", passed=False, at=NOW)
    gates.checkov(passed=[checkov_item("CKV_AWS_21", "assembly-dev/devData-use1.template.json", "AWS::S3::Bucket.Logs")])
    gates.cfn_lint()
    gates.resilience()
    assert _generate(gates, tmp_path / "out") == 1  # no record failed but the synth gate itself
    document = json.loads((tmp_path / "out" / "evidence.json").read_text())
    (failure,) = [r for r in document["records"] if r["status"] == "fail"]
    assert (failure["source"], failure["rule"]) == ("aspect", "synth-gate")
    assert json.loads((tmp_path / "out" / "bundle.json").read_text())["synth_passed"] is False
    # Its files must still be what synth judged.
    (gates.cdk_out / "assembly-dev" / "devData-use1.template.json").write_text("{}")
    with pytest.raises(CustodyBroken, match="changed since synth judged it"):
        _generate(gates, tmp_path / "again")


def test_the_page_shows_each_environments_recovery_budget_with_its_chart(generated, bundle):
    page = (bundle / "index.html").read_text()
    table = page.split('<table id="resilience-budget">', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 4  # the header and dev's rto, rpo and backup rpo
    assert "budget.rto" in table and "detection 40 s: health check" in table and "880" in table
    assert '<img class="chart" src="resilience.png"' in page
    assert (bundle / "resilience.png").read_bytes().startswith(b"\x89PNG")
    document = json.loads((bundle / "evidence.json").read_text())
    records = {r["rule"]: r for r in document["records"] if r["source"] == "resilience"}
    assert {rule: r["status"] for rule, r in records.items()} == {
        "budget.rto": "pass", "budget.rpo": "pass", "budget.backup_rpo": "pass"}
    cp10 = next(c for c in document["controls"] if c["framework"].startswith("NIST") and c["id"] == "CP-10")
    assert any(ref["reference"] == "resilience:budget" and ref["status"] == "pass" for ref in cp10["references"])


def test_a_budget_over_its_objective_fails_the_bundle(no_printing, gates, tmp_path, capsys):
    gates.all_static()
    gates.resilience(rto_s=1200)
    assert _generate(gates, tmp_path / "out") == 1
    assert capsys.readouterr().out.startswith("evidence: FAIL: ")
    document = json.loads((tmp_path / "out" / "evidence.json").read_text())
    (failed,) = [r for r in document["records"] if r["status"] == "fail"]
    assert (failed["source"], failed["rule"], failed["detail"]["observed"]) == ("resilience", "budget.rto", 1200)
    assert [t["name"] for t in failed["detail"]["terms"]] == ["detection", "promotion"]


def test_no_budget_is_not_a_pass(no_printing, gates, tmp_path, capsys):
    gates.all_static()
    (gates.cdk_out / "resilience.json").unlink()
    assert _generate(gates, tmp_path / "out") == 2
    assert "(required: resilience)" in capsys.readouterr().out


def test_a_budget_of_an_earlier_synthesis_is_refused(no_printing, gates, tmp_path):
    gates.all_static()
    gates.synth()
    gates.checkov()
    gates.cfn_lint()
    with pytest.raises(CustodyBroken, match="resilience.json: judged another synthesis than"):
        _generate(gates, tmp_path / "out")


def test_a_deployed_environment_read_back_shows_its_config_and_drift_records(no_printing, gates, tmp_path):
    gates.all_static()
    gates.aws()
    assert _generate(gates, tmp_path / "out", required=[*REQUIRED, "config", "drift"]) == 0
    page = (tmp_path / "out" / "index.html").read_text()
    table = page.split('<table id="after-deploy-records">', 1)[1].split("</table>", 1)[0]
    assert "hipaa-security.s3-bucket-ssl-requests-only" in table and "records-staging-service-use1" in table
    document = json.loads((tmp_path / "out" / "evidence.json").read_text())
    by_source = {(r["source"], r["status"]) for r in document["records"] if r["source"] in ("config", "drift")}
    assert by_source == {("config", "pass"), ("drift", "pass")}
    ca7 = next(c for c in document["controls"] if c["framework"].startswith("NIST") and c["id"] == "CA-7")
    statuses = {ref["reference"]: ref["status"] for ref in ca7["references"]}
    assert {k: statuses[k] for k in ("config:recorder", "config:nist-800-53-r5", "drift:stack")} == {
        "config:recorder": "pass", "config:nist-800-53-r5": "pass", "drift:stack": "pass"}


def test_a_non_compliant_rule_or_a_drifted_stack_fails_the_bundle_and_is_listed_first(no_printing, gates, tmp_path,
                                                                                      capsys):
    gates.all_static()
    gates.aws(non_compliant=("secret-rotation-overdue",), drifted=("records-staging-service-use1",))
    assert _generate(gates, tmp_path / "out") == 1
    assert capsys.readouterr().out.startswith("evidence: FAIL: ")
    page = (tmp_path / "out" / "index.html").read_text()
    rows = page.split('<table id="after-deploy-records">', 1)[1].split("</table>", 1)[0].split("<tr>")[2:]
    assert "secret-rotation-overdue" in rows[0] or "records-staging-service-use1" in rows[0]
    assert "TaskRole (AWS::IAM::Role): MODIFIED" in page
    document = json.loads((tmp_path / "out" / "evidence.json").read_text())
    ia5 = next(c for c in document["controls"] if c["framework"].startswith("NIST") and c["id"] == "IA-5")
    assert any(r["reference"] == "config:secret-rotation-overdue" and r["status"] == "fail" for r in ia5["references"])


def test_a_required_deployed_environment_that_was_not_read_back_is_inconclusive(no_printing, gates, tmp_path):
    gates.all_static()
    assert _generate(gates, tmp_path / "out", required=[*REQUIRED, "config", "drift"]) == 2


def test_the_delivery_kpis_are_shown_with_their_chart_and_back_change_management(no_printing, gates, tmp_path):
    gates.all_static()
    gates.kpis()
    assert _generate(gates, tmp_path / "out") == 0  # delivery is not required: its inconclusive KPI fails nothing
    out = tmp_path / "out"
    page = (out / "index.html").read_text()
    table = page.split('<table id="delivery-kpis">', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 5  # header, and four judged KPIs: time to restore was not judged
    assert "change_failure_rate" in table and "&lt;= 15 %" in table and "no data" in table
    assert '<img class="chart" src="delivery.png"' in page  # drawn by the printing child (tests/reports/test_charts)
    document = json.loads((out / "evidence.json").read_text())
    cc81 = next(c for c in document["controls"] if c["id"] == "CC8.1")
    assert any(r["reference"] == "delivery:change_failure_rate" and r["status"] == "pass" for r in cc81["references"])


def test_a_missed_delivery_target_fails_the_bundle(no_printing, gates, tmp_path):
    gates.all_static()
    gates.kpis(change_failure_rate=40)
    assert _generate(gates, tmp_path / "out") == 1
