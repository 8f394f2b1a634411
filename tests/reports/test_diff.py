"""The compliance diff on bundles the generator wrote: what a change adds, fixes and regresses."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from pathlib import Path

import pytest
import yaml

import reports.__main__ as cli
from gates import custody
from policies.acknowledgments import REGISTRY_FILE, load_registry
from reports import diff as compliance_diff
from reports.__main__ import generate
from tests.factories import acknowledgment_entry
from tests.reports.conftest import ACK_REASON, SYNTH_TIME, FakeGates, checkov_item, nag_finding

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
OPEN = "dev/Data-{stack}/Open/Resource"


def _bundle(gates: FakeGates, out: Path) -> Path:
    with contextlib.redirect_stdout(io.StringIO()):
        generate(gates.inputs, out, required=["nag"], take_screenshot=False, now=NOW)
    return out


def _open_bucket(gates: FakeGates) -> None:
    """The change: an unencrypted bucket in both regions, flagged by nag and checkov."""
    gates.all_static(violations=[nag_finding("HIPAA.Security-S3DefaultEncryptionKMS", OPEN.format(stack=stack))
                                 for stack in ("use1", "use2")])
    for stack in ("use1", "use2"):
        template = gates.cdk_out / "assembly-dev" / f"devData-{stack}.template.json"
        document = json.loads(template.read_text())
        # A logical id whose hash differs per region, as CDK's do: the diff must not key on it.
        document["Resources"][f"Open{stack.upper()}5A1B"] = {
            "Type": "AWS::S3::Bucket", "Metadata": {"aws:cdk:path": OPEN.format(stack=stack)}}
        template.write_text(json.dumps(document))
    custody.record(gates.cdk_out, commit="fake-synth", passed=True, at=SYNTH_TIME)
    gates.checkov(
        passed=[checkov_item("CKV_AWS_21", f"assembly-dev/devData-{stack}.template.json", "AWS::S3::Bucket.Logs")
                for stack in ("use1", "use2")],
        skipped=[checkov_item("CKV_AWS_18", "assembly-dev/devData-use1.template.json", "AWS::S3::Bucket.Logs",
                              ACK_REASON)],
        failed=[checkov_item("CKV_AWS_145", f"assembly-dev/devData-{stack}.template.json",
                             f"AWS::S3::Bucket.Open{stack.upper()}5A1B") for stack in ("use1", "use2")])
    gates.cfn_lint()
    gates.resilience()


@pytest.fixture
def with_registry(tmp_path, monkeypatch):
    """The registry plus one entry, as a change that adds an acknowledgment would have it."""
    def install(*entries: dict) -> None:
        path = tmp_path / "acknowledgments.yaml"
        path.write_text(REGISTRY_FILE.read_text() + "\n" + yaml.safe_dump(list(entries)))
        monkeypatch.setattr(cli, "load_registry", lambda: load_registry(path))
    return install


def test_a_change_that_adds_an_open_bucket_and_an_acknowledgment_is_shown_and_blocks(no_printing, tmp_path, capsys,
                                                                                    with_registry):
    base = _bundle(FakeGates(tmp_path / "base").all_static(), tmp_path / "base-out")
    head_gates = FakeGates(tmp_path / "head")
    _open_bucket(head_gates)
    with_registry(acknowledgment_entry(id="open-bucket-for-now", rules=["checkov::CKV_AWS_18"],
                                       paths=["*/Data-*/Logs/Resource"], owner="records-team",
                                       expires="2027-03-01", reason="The bucket holds only public assets."))
    head = _bundle(head_gates, tmp_path / "head-out")
    capsys.readouterr()
    assert cli.main(["diff", str(base), str(head), "--json", str(tmp_path / "diff.json")]) == 1
    text = capsys.readouterr().out
    assert "**blocks**: 2 new unacknowledged findings" in text
    rows = [line for line in text.splitlines() if "`dev/Data-*/Open/Resource`" in line]
    assert len(rows) == 2  # one per rule, each naming both regions
    nag_row = next(row for row in rows if "S3DefaultEncryptionKMS" in row)
    assert "| new | fail | nag |" in nag_row and "us-east-1, us-east-2" in nag_row
    assert "HIPAA Security Rule 164.312(a)(2)(iv)" in nag_row  # the control the failing rule supports
    assert "| open-bucket-for-now | added | records-team, until 2027-03-01" in text
    document = json.loads((tmp_path / "diff.json").read_text())
    assert document["exit_code"] == 1 and {f["rule"] for f in document["findings"]} == {
        "HIPAA.Security-S3DefaultEncryptionKMS", "CKV_AWS_145"}
    assert any(c["regressed"] for c in document["controls"])


def test_two_runs_of_the_same_commit_are_no_change(no_printing, tmp_path, capsys):
    gates = FakeGates(tmp_path / "gates").all_static()
    first, second = _bundle(gates, tmp_path / "first"), _bundle(gates, tmp_path / "second")
    capsys.readouterr()
    assert cli.main(["diff", str(first / "evidence.json"), str(second)]) == 0
    assert "\nno change\n" in capsys.readouterr().out


def test_a_fixed_finding_and_an_acknowledged_one_do_not_block(no_printing, tmp_path, capsys):
    broken = FakeGates(tmp_path / "broken")
    _open_bucket(broken)
    base = _bundle(broken, tmp_path / "base")
    head = _bundle(FakeGates(tmp_path / "fixed").all_static(), tmp_path / "head")
    capsys.readouterr()
    assert cli.main(["diff", str(base), str(head)]) == 0
    text = capsys.readouterr().out
    assert "no regression" in text and "| fixed | fail | nag |" in text


def test_an_input_that_is_not_evidence_is_inconclusive(tmp_path, capsys):
    (tmp_path / "x.json").write_text("[]")
    assert cli.main(["diff", str(tmp_path / "x.json"), str(tmp_path / "missing")]) == 2
    assert "diff: INCONCLUSIVE: " in capsys.readouterr().err


def test_a_source_that_ran_on_one_side_only_fixes_nothing(no_printing, tmp_path, capsys):
    base = _bundle(FakeGates(tmp_path / "base").all_static(), tmp_path / "base-out")
    gates = FakeGates(tmp_path / "head").all_static()
    (gates.cdk_out / "checkov.json").unlink()
    head = _bundle(gates, tmp_path / "head-out")
    capsys.readouterr()
    assert cli.main(["diff", str(base), str(head)]) == 1  # nothing can be said about what checkov would find
    text = capsys.readouterr().out
    assert "Not compared, collected in one bundle only: checkov (base only)." in text
    assert "1 sources not collected in head" in text
    assert "| fixed |" not in text  # its acknowledged finding did not go away; checkov did not run


def _evidence(records=(), controls=(), acknowledgments=(), attestations=()) -> dict:
    return {"commit": "c", "generated_at": "2026-11-23T12:00:00+00:00",
            "sources": [{"source": "nag", "collected": True}],
            "records": [{"source": "nag", "rule": rule, "status": status,
                         "where": {"env": "dev", "region": region, "stack": "", "resource": "dev/Data-use1/Logs/Resource"},
                         "detail": {}} for rule, status, region in records],
            "controls": [{"framework": "NIST", "id": cid, "status": status, "references": []}
                         for cid, status in controls],
            "acknowledgments": list(acknowledgments), "attestations": list(attestations)}


@pytest.mark.parametrize("base, head, kind", [
    # A control removed from the head (or its framework renamed) proves nothing any more.
    (_evidence(controls=[("AC-3", "pass")]), _evidence(), "removed"),
    # The same failing finding, now in a second region.
    (_evidence(records=[("X-S1", "fail", "us-east-1")]),
     _evidence(records=[("X-S1", "fail", "us-east-1"), ("X-S1", "fail", "us-east-2")]), "spread to us-east-2"),
    # A failure that turned inconclusive was not fixed.
    (_evidence(records=[("X-S1", "fail", "us-east-1")]), _evidence(records=[("X-S1", "inconclusive", "us-east-1")]),
     "now inconclusive"),
])
def test_what_once_slipped_through_blocks(base, head, kind):
    result = compliance_diff.compare(base, head)
    assert result.exit_code == 1 and not result.empty
    shown = [c.after for c in result.controls] + [c.kind for c in result.findings]
    assert kind in shown


def test_an_acknowledgment_or_attestation_edited_in_place_is_shown():
    ack = {"id": "open-bucket", "rules": ["X-S1"], "reason": "r", "owner": "a", "expires": "2027-01-31",
           "environments": [], "resources": ["dev/Data-use1/Logs/Resource"], "findings": {"dev": 1}}
    widened = ack | {"resources": [*ack["resources"], "dev/Data-use2/Logs/Resource"], "expires": "2027-06-30",
                     "findings": {"dev": 2}}
    result = compliance_diff.compare(_evidence(acknowledgments=[ack]), _evidence(acknowledgments=[widened]))
    ((kind, ident, detail),) = result.acknowledgments
    assert (kind, ident) == ("changed", "open-bucket") and "expires: 2027-01-31 → 2027-06-30" in detail
    assert "findings" not in detail and not result.empty


def test_a_new_acknowledged_finding_names_its_registry_entry_and_does_not_block():
    head = _evidence(records=[("X-S1", "acknowledged", "us-east-1")])
    head["records"][0]["detail"] = {"acknowledgment": "open-bucket"}
    result = compliance_diff.compare(_evidence(), head)
    assert result.exit_code == 0
    assert "| new | acknowledged (open-bucket) | nag |" in compliance_diff.markdown(result, _evidence(), head)
