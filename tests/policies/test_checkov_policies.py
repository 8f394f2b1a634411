"""Each custom checkov policy against its fixture: resources named Compliant* pass, NonCompliant* fail.

checkov runs in its own virtualenv, so the policies are exercised the way the gate runs them: one checkov
process over every fixture, limited to the project's checks.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from gates.checkov import CONFIG_FILE, CUSTOM_CHECKS_DIR, ROOT, custom_check_ids

FIXTURES = Path(__file__).with_name("checkov_fixtures")
CUSTOM_IDS = custom_check_ids()


@pytest.fixture(scope="module")
def outcomes(checkov: Path) -> dict[str, dict[str, set[str]]]:
    done = subprocess.run(
        [str(checkov), "--config-file", str(CONFIG_FILE), "-d", str(FIXTURES), "--check", ",".join(CUSTOM_IDS)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    results = json.loads(done.stdout)["results"]
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"passed": set(), "failed": set()})
    for kind in ("passed", "failed"):
        for item in results[f"{kind}_checks"]:
            found[item["check_id"]][kind].add(item["resource"].split(".", 1)[1])
    return found


def test_the_project_has_its_own_checks():
    assert set(CUSTOM_IDS) >= {"CKV_RECORDS_ECS_1", "CKV_RECORDS_RDS_1", "CKV2_RECORDS_R53_1", "CKV2_RECORDS_ECR_1",
                               "CKV_RECORDS_ECR_2", "CKV_RECORDS_ELB_1", "CKV_RECORDS_LOG_1", "CKV_RECORDS_ECS_2"}


@pytest.mark.parametrize("check_id", CUSTOM_IDS)
def test_compliant_resources_pass_and_non_compliant_fail(outcomes, check_id):
    resources = json.loads((FIXTURES / f"{check_id.lower()}.template.json").read_text())["Resources"]
    compliant = {name for name in resources if name.startswith("Compliant")}
    assert compliant and len(resources) > len(compliant)
    assert outcomes[check_id]["passed"] == compliant
    assert outcomes[check_id]["failed"] == set(resources) - compliant


@pytest.mark.parametrize("check_id", CUSTOM_IDS)
def test_each_policy_file_declares_the_id_in_its_name(check_id):
    (source,) = [p for p in CUSTOM_CHECKS_DIR.iterdir() if p.stem == check_id.lower()]
    declared = re.findall(r'\bid[=:]\s*"?([A-Z0-9_]+)"?', source.read_text())
    assert declared == [check_id]
