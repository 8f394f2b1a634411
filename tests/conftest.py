"""Session fixtures: the configuration, and one guarded synthesis of every environment shared by all tests."""

from __future__ import annotations

import datetime as dt
import functools
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# moto loads thousands of default AMIs into every EC2 backend; the tests create their own VPCs and need none.
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

from aws_cdk.assertions import Template  # noqa: E402

from aspects.guard import GuardResult, guard  # noqa: E402
from gates import provenance  # noqa: E402
from gates.checkov import DEFAULT_CHECKOV  # noqa: E402
from gates.synth import SynthVerdict, conclude, load_report  # noqa: E402
from ops.gunicorn import ROOT, Gunicorn  # noqa: E402
from policies.acknowledgments import Registry, load_registry  # noqa: E402
from policies.slo import SloCatalog, load_slo  # noqa: E402
from stacks.build import add_stages, new_app  # noqa: E402
from stacks.config import CDK_JSON, AppConfig, load_config  # noqa: E402
from stacks.stage import EnvironmentStage, RegionalStacks  # noqa: E402

# Tests that inspect the report must see it even when it fails, so synthesis itself must not raise.
INSPECT_CONTEXT = {"@aws-cdk/core:failSynthOnValidationErrors": False}
TODAY = dt.date(2026, 11, 23)

Unit = Literal[
    "keys", "network", "alerts", "registry", "backup", "data", "cache", "certificate", "service", "observability",
    "compliance",
]
GlobalUnit = Literal["zone_stack", "edge", "operations", "peering", "peer_routes", "app_secrets"]
Role = Literal["primary", "secondary"]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The JUnit file's provenance (commit, time) beside it, written where the file is: by the controller."""
    xmlpath = session.config.getoption("xmlpath", default=None)
    if xmlpath and not hasattr(session.config, "workerinput"):
        provenance.write(Path(xmlpath))


@pytest.fixture(scope="session")
def config() -> AppConfig:
    return load_config(CDK_JSON)


@pytest.fixture(scope="session")
def slo() -> SloCatalog:
    return load_slo()


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@dataclass
class Synthesized:
    stages: dict[str, EnvironmentStage]
    outdir: Path
    result: GuardResult
    report: dict[str, Any]
    verdict: SynthVerdict

    def stacks(self, env: str, role: Role) -> RegionalStacks:
        stage = self.stages[env]
        return stage.primary if role == "primary" else stage.secondary

    def template(self, env: str, role: Role, unit: Unit) -> Template:
        return Template.from_stack(getattr(self.stacks(env, role), unit))

    def stage_template(self, env: str, unit: GlobalUnit) -> Template:
        """Stacks that exist once per environment: zone, edge, operations (global), peering, routes, secrets."""
        return Template.from_stack(getattr(self.stages[env], unit))


def synthesize(
    config: AppConfig, slo: SloCatalog, registry: Registry, outdir: Path, selector: str | None = None
) -> Synthesized:
    app = new_app(outdir=str(outdir), context=INSPECT_CONTEXT)
    stages = add_stages(app, config, slo, selector=selector)
    result = guard(app, config, stages, registry=registry, today=TODAY)
    app.synth()
    verdict = conclude(outdir, result, commit="test-session")
    return Synthesized(
        stages={s.node.id: s for s in stages},
        outdir=outdir,
        result=result,
        report=load_report(outdir),
        verdict=verdict,
    )


@pytest.fixture(scope="session")
def synthesized(
    tmp_path_factory: pytest.TempPathFactory, config: AppConfig, slo: SloCatalog, registry: Registry
) -> Synthesized:
    """Every environment, guarded exactly as app.py guards it, synthesized once per session."""
    return synthesize(config, slo, registry, tmp_path_factory.mktemp("cdk.out"))


# Fixtures for the tools and servers a test starts. tests/markers.py marks every test that uses one, so
# `make test-fast` can leave the slow ones out without anybody tagging tests by hand.

@pytest.fixture(scope="session")
def checkov() -> Path:
    """checkov in its own virtualenv (`make setup-checkov`), or $CHECKOV."""
    path = Path(os.environ.get("CHECKOV", DEFAULT_CHECKOV))
    if not path.exists():
        pytest.fail(f"{path} is missing; run `make setup` (checkov is part of the toolchain)")
    return path


@pytest.fixture
def checkov_gate_runs(checkov: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The checkov gate (gates.checkov) pointed at the checkov the ``checkov`` fixture found."""
    monkeypatch.setenv("CHECKOV", str(checkov))
    return checkov


@pytest.fixture(scope="session")
def cdk_cli() -> Path:
    """The pinned CDK CLI in .tools/ (`make setup-cdk`)."""
    path = ROOT / ".tools" / "node_modules" / ".bin" / "cdk"
    if not path.exists():
        pytest.fail(f"{path} is missing; run `make setup` (the CDK CLI is part of the toolchain)")
    return path


@dataclass
class ServerProcesses:
    """Starts servers for tests and stops every one of them at the end, however the tests ended."""

    servers: list[Gunicorn] = field(default_factory=list)
    groups: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, env: dict[str, str], log: Path) -> Gunicorn:
        """The service under gunicorn, answering /health. :raise RuntimeError: it did not start (log attached)."""
        server = Gunicorn(env, log)
        self.servers.append(server)
        return server.start()

    def popen(self, args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """A command in a process group of its own, so whatever it starts (gunicorn, PostgreSQL) goes with it."""
        with log.open("wb") as output:
            process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.groups.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL to the command's whole process group: the leader may be gone while its children run."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()
        for process in self.groups:
            self.kill(process)


@pytest.fixture(scope="session")
def gunicorn() -> Iterator[ServerProcesses]:
    """Real gunicorn servers (and commands that start them), stopped at the end of the session at the latest."""
    processes = ServerProcesses()
    yield processes
    processes.stop_all()


@functools.cache
def _botocore() -> Any:
    """One botocore session for the whole run: a new one parses endpoints.json and each service model again, most
    of a second per test. moto answers whichever session sends the request."""
    import botocore.session

    return botocore.session.get_session()


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh moto account for one test (us-east-1 by default), as a boto3 session."""
    import boto3
    from moto import mock_aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.Session(botocore_session=_botocore(), region_name="us-east-1")
