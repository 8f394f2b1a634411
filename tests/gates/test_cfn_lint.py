from __future__ import annotations

import contextlib
import io
import json
import shutil
from dataclasses import dataclass

import pytest

from gates import cfn_lint as lint
from gates import custody


@dataclass(frozen=True)
class LintRun:
    exit_code: int
    line: str
    written: dict


@pytest.fixture(scope="module")
def cfn_lint_prod(synthesized, tmp_path_factory) -> LintRun:
    """cfn-lint over the prod assembly, as `make lint` runs it (the strictest environment here; `make check`
    lints all 78 templates). About 15 s of two cores: tests/markers.py marks its users `cfn_lint`."""
    stage_dir = tmp_path_factory.mktemp("lint") / "cdk.out"
    shutil.copytree(synthesized.outdir / "assembly-prod", stage_dir)
    custody.record(stage_dir, commit="prod-only", passed=True)  # synth's record, for this one environment's copy
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exit_code = lint.main([str(stage_dir)])
    return LintRun(exit_code, output.getvalue().strip(), json.loads((stage_dir / lint.RESULT_FILE).read_text()))


def test_prod_templates_have_no_cfn_lint_errors(cfn_lint_prod):
    assert cfn_lint_prod.exit_code == 0
    assert cfn_lint_prod.line.startswith("cfn-lint: PASS: 28 templates, 0 errors")
    written = cfn_lint_prod.written
    assert written["templates"] == 28 and all(not f["rule_id"].startswith("E") for f in written["findings"])


def test_template_with_an_error_fails(tmp_path, capsys):
    bad = {"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceClass": "db.nope.huge",
                                                                              "Engine": "postgres"}}}}
    (tmp_path / "Bad.template.json").write_text(json.dumps(bad))
    custody.record(tmp_path, commit="test", passed=True)
    assert lint.main([str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "cfn-lint: FAIL: 1 templates" in captured.out
    assert "Bad.template.json" in captured.err
    (finding, *_) = json.loads((tmp_path / lint.RESULT_FILE).read_text())["findings"]
    assert finding["template"] == "Bad.template.json" and finding["rule_id"].startswith("E")


def test_no_templates_is_inconclusive_not_a_pass(tmp_path, capsys):
    assert lint.main([str(tmp_path)]) == 2
    assert "INCONCLUSIVE" in capsys.readouterr().err
