"""The synth gate's record of what it judged, and the later gates' check against it (the end-to-end refusals of
cfn-lint, checkov and the evidence are in tests/test_gate_integrity.py)."""

from __future__ import annotations

import json
import subprocess

import pytest

from aspects import custody
from aspects.custody import CustodyBroken


@pytest.fixture
def judged(tmp_path):
    (tmp_path / "assembly-dev").mkdir()
    (tmp_path / "assembly-dev" / "devA.template.json").write_text('{"Resources": {}}')
    (tmp_path / "validation-report.json").write_text("{}")
    custody.record(tmp_path, commit="abc123")
    return tmp_path


def test_an_untouched_assembly_verifies_and_returns_the_digests(judged):
    digests = custody.verify(judged)
    assert set(digests) == {"assembly-dev/devA.template.json", "validation-report.json"}
    assert json.loads((judged / custody.CUSTODY_FILE).read_text())["commit"] == "abc123"


@pytest.mark.parametrize("tamper, message", [
    (lambda d: (d / "assembly-dev" / "devA.template.json").write_text('{"Resources": {"X": {}}}'),
     "devA.template.json: changed since synth judged it (sha256 differs)"),
    (lambda d: (d / "validation-report.json").write_text('{"pluginReports": []}'),
     "validation-report.json: changed since synth judged it"),
    (lambda d: (d / "assembly-dev" / "devA.template.json").unlink(), "devA.template.json: judged by synth but missing"),
    (lambda d: (d / "devB.template.json").write_text("{}"), "devB.template.json: not judged by synth"),
    (lambda d: (d / custody.CUSTODY_FILE).unlink(), "custody.json: no record of what synth judged"),
    (lambda d: (d / custody.CUSTODY_FILE).write_text('{"sha256": {}}'), "custody.json: records no files"),
    (lambda d: (d / custody.CUSTODY_FILE).write_text("[1]"), "custody.json: no record of what synth judged"),
])
def test_any_change_after_synth_is_refused_naming_the_file(judged, tamper, message):
    tamper(judged)
    with pytest.raises(CustodyBroken, match=message.replace("(", r"\(").replace(")", r"\)")):
        custody.verify(judged)


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
