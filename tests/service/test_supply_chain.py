"""Static gates on the image and the code: hadolint on the Dockerfile, bandit on the service (no build here)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "service" / "Dockerfile"


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    return subprocess.run([binary, "--failure-threshold", "info", str(path)], capture_output=True, text=True,
                          timeout=60, check=False)


def test_dockerfile_passes_hadolint():
    result = _hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout


def test_hadolint_fails_a_careless_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\nCMD python app.py\n")
    result = _hadolint(bad)
    assert result.returncode != 0 and "DL3007" in result.stdout  # :latest tag


@pytest.mark.parametrize("expected", ["USER 10001:10001", "HEALTHCHECK", "@sha256:", "AS build", "AS runtime"])
def test_image_runs_as_non_root_with_healthcheck_and_pinned_multi_stage_base(expected):
    assert expected in DOCKERFILE.read_text()


def test_the_image_health_check_is_the_task_definition_health_check():
    from stacks.service import HEALTH_CHECK_COMMAND

    healthcheck = DOCKERFILE.read_text().split("HEALTHCHECK", 1)[1].split("\n# ", 1)[0]
    assert json.loads(healthcheck.split("CMD", 1)[1]) == list(HEALTH_CHECK_COMMAND)
    # What the command runs is in the image: the runtime copies service/ into its working directory.
    assert (ROOT / "service" / "healthcheck.py").is_file() and "COPY --chown=root:root service/ ./service/" in \
        DOCKERFILE.read_text()


def test_final_stage_has_no_build_tools():
    runtime = DOCKERFILE.read_text().split("AS runtime", 1)[1]
    assert "pip install" not in runtime and "apt-get" not in runtime and "gcc" not in runtime


def _bandit(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bandit", "-r", str(path), "-ll", "-q"], capture_output=True,
                          text=True, timeout=120, check=False)


def test_service_has_no_medium_or_high_bandit_findings():
    result = _bandit(ROOT / "service")
    assert result.returncode == 0, result.stdout


def test_bandit_fails_on_an_injection(tmp_path):
    (tmp_path / "bad.py").write_text("import subprocess\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n")
    result = _bandit(tmp_path)
    assert result.returncode != 0 and "B602" in result.stdout
