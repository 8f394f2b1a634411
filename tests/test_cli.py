"""Through the real CDK CLI, which runs app.py in "process" mode: there a failed validation is only an exit code
inside the jsii child and Python would exit 0, so app.py's own gate is what makes `cdk synth` fail."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.factories import stale_entry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cli_synth(cdk_cli, tmp_path_factory):
    def run(*context: str) -> subprocess.CompletedProcess[str]:
        outdir = tmp_path_factory.mktemp("cli.out")
        args = [str(cdk_cli), "synth", "--quiet", "--no-notices", "-o", str(outdir)]
        for item in context:
            args += ["-c", item]
        env = {**os.environ, "PATH": f"{cdk_cli.parent}:{os.environ['PATH']}", "CDK_DISABLE_CLI_TELEMETRY": "true"}
        env.pop("PYTEST_CURRENT_TEST", None)  # let CDK pick the CLI's own app mode, as in `make synth`
        env.pop("PYTEST_VERSION", None)
        return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)

    return run


def test_cdk_synth_fails_on_an_acknowledgment_that_suppresses_nothing(cli_synth, tmp_path):
    entries = yaml.safe_load((ROOT / "policies" / "acknowledgments.yaml").read_text())
    entries.append(stale_entry(id="stale-exception"))
    proposed = tmp_path / "proposed.yaml"
    proposed.write_text(yaml.safe_dump(entries))
    result = cli_synth("env=dev", f"registry={proposed}")
    assert result.returncode != 0
    assert "acknowledgment 'stale-exception' rule AwsSolutions::AwsSolutions-S1 suppressed nothing" in result.stderr
    assert "synth: FAIL: environments dev" in result.stderr
