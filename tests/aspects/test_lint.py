from __future__ import annotations

import json
import shutil

from aspects import lint


def test_prod_templates_have_no_cfn_lint_errors(synthesized, tmp_path, capsys):
    # The strictest environment here; `make check` lints all 78 templates (cfn-lint is slow under coverage).
    stage_dir = tmp_path / "cdk.out"
    shutil.copytree(synthesized.outdir / "assembly-prod", stage_dir)
    assert lint.main([str(stage_dir)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("cfn-lint: PASS: 26 templates, 0 errors")
    written = json.loads((stage_dir / lint.RESULT_FILE).read_text())
    assert written["templates"] == 26 and all(not f["rule_id"].startswith("E") for f in written["findings"])


def test_template_with_an_error_fails(tmp_path, capsys):
    bad = {"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceClass": "db.nope.huge",
                                                                              "Engine": "postgres"}}}}
    (tmp_path / "Bad.template.json").write_text(json.dumps(bad))
    assert lint.main([str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "cfn-lint: FAIL: 1 templates" in captured.out
    assert "Bad.template.json" in captured.err
    (finding, *_) = json.loads((tmp_path / lint.RESULT_FILE).read_text())["findings"]
    assert finding["template"] == "Bad.template.json" and finding["rule_id"].startswith("E")


def test_no_templates_is_inconclusive_not_a_pass(tmp_path, capsys):
    assert lint.main([str(tmp_path)]) == 2
    assert "INCONCLUSIVE" in capsys.readouterr().err
