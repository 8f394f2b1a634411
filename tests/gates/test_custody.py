"""The synth gate's record of what it judged, and the later gates' check against it (the end-to-end refusals of
cfn-lint, checkov and the evidence are in tests/test_gate_integrity.py)."""

from __future__ import annotations

import json
import subprocess

import pytest

from gates import custody
from gates.custody import CustodyBroken


@pytest.fixture
def judged(tmp_path):
    (tmp_path / "assembly-dev").mkdir()
    (tmp_path / "assembly-dev" / "devA.template.json").write_text('{"Resources": {}}')
    (tmp_path / "assembly-dev" / "manifest.json").write_text('{"artifacts": {}}')
    (tmp_path / "validation-report.json").write_text("{}")
    (tmp_path / "synth.lock").write_text("")  # the CLI's, gone once synth returns
    custody.record(tmp_path, commit="abc123", passed=True)
    (tmp_path / "synth.lock").unlink()
    return tmp_path


def test_an_untouched_assembly_verifies_and_returns_the_digests(judged, capsys):
    digests = custody.verify(judged)
    assert set(digests) == {"assembly-dev/devA.template.json", "assembly-dev/manifest.json", "validation-report.json"}
    assert custody.main([str(judged)]) == 0
    assert capsys.readouterr().out == "custody: PASS: 3 files as synth judged them at abc123\n"


@pytest.mark.parametrize("tamper, message", [
    (lambda d: (d / "assembly-dev" / "devA.template.json").write_text('{"Resources": {"X": {}}}'),
     "devA.template.json: changed since synth judged it (sha256 differs)"),
    (lambda d: (d / "validation-report.json").write_text('{"pluginReports": []}'),
     "validation-report.json: changed since synth judged it"),
    (lambda d: (d / "assembly-dev" / "devA.template.json").unlink(), "devA.template.json: judged by synth but missing"),
    (lambda d: (d / "devB.template.json").write_text("{}"), "devB.template.json: not judged by synth"),
    # What `cdk deploy --app cdk.out` reads besides the templates: a manifest pointing at another file.
    (lambda d: (d / "assembly-dev" / "devA.deploy.json").write_text("{}"), "devA.deploy.json: not judged by synth"),
    (lambda d: (d / "assembly-dev" / "manifest.json").write_text("{}"), "manifest.json: changed since synth"),
    (lambda d: (d / custody.CUSTODY_FILE).unlink(), "custody.json: no record of what synth judged"),
    (lambda d: (d / custody.CUSTODY_FILE).write_text('{"sha256": {}}'), "custody.json: records no files"),
    (lambda d: (d / custody.CUSTODY_FILE).write_text("[1]"), "custody.json: no record of what synth judged"),
])
def test_any_change_after_synth_is_refused_naming_the_file(judged, tamper, message, capsys):
    tamper(judged)
    with pytest.raises(CustodyBroken, match=message.replace("(", r"\(").replace(")", r"\)")):
        custody.verify(judged)
    assert custody.main([str(judged)]) == 2
    assert capsys.readouterr().err.startswith("custody: INCONCLUSIVE: ")


def test_a_synthesis_that_failed_is_refused(tmp_path):
    (tmp_path / "devA.template.json").write_text("{}")
    custody.record(tmp_path, commit="abc123", passed=False)
    with pytest.raises(CustodyBroken, match="synth failed on these templates; fix its findings"):
        custody.verify(tmp_path)


def test_gate_results_must_carry_the_seal_of_this_synthesis(judged):
    custody.verify_results(judged)  # none yet: nothing to compare
    (judged / "cfn-lint.json").write_text(json.dumps({"findings": [], custody.SEAL_KEY: custody.seal(judged)}))
    custody.verify_results(judged)
    custody.verify(judged)  # the later gates' own results are not synth's files
    custody.record(judged, commit="def456", passed=True)  # a new synthesis: the old result no longer matches
    with pytest.raises(CustodyBroken, match="cfn-lint.json: judged another synthesis than"):
        custody.verify_results(judged)
    (judged / "checkov.json").write_text("[]")
    (judged / "cfn-lint.json").write_text("{not json")  # the evidence's cfn-lint source reports it not collected
    with pytest.raises(CustodyBroken, match="checkov.json: judged another synthesis"):
        custody.verify_results(judged)


def test_the_commit_says_when_the_working_tree_differs(monkeypatch):
    answers = iter(["f00d\n", " M app.py\n"])

    def git(*_args, **_kwargs):
        return subprocess.CompletedProcess([], 0, stdout=next(answers))

    monkeypatch.setattr(subprocess, "run", git)
    assert custody.current_commit() == "f00d+uncommitted-changes"


def test_outside_a_git_checkout_the_commit_is_unknown(monkeypatch):
    def no_git(*_args, **_kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(subprocess, "run", no_git)
    assert custody.current_commit() == "unknown (not a git checkout)"
