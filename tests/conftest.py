"""Session fixtures: the configuration, and one guarded synthesis of every environment shared by all tests."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk.assertions import Template  # noqa: E402

from aspects.gate import SynthVerdict, judge_report, load_report  # noqa: E402
from aspects.guard import GuardResult, guard  # noqa: E402
from policies.acknowledgments import Registry, load_registry  # noqa: E402
from policies.slo import SloCatalog, load_slo  # noqa: E402
from stacks.build import add_stages, new_app  # noqa: E402
from stacks.config import CDK_JSON, AppConfig, load_config  # noqa: E402
from stacks.stage import EnvironmentStage, RegionalStacks  # noqa: E402

# Tests that inspect the report must see it even when it fails, so synthesis itself must not raise.
INSPECT_CONTEXT = {"@aws-cdk/core:failSynthOnValidationErrors": False}
TODAY = dt.date(2026, 11, 23)

Unit = Literal[
    "keys", "network", "alerts", "registry", "backup", "data", "cache", "certificate", "service", "observability"
]
GlobalUnit = Literal["zone_stack", "edge", "operations", "peering", "peer_routes", "app_secrets"]
Role = Literal["primary", "secondary"]


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
    report = load_report(outdir)
    return Synthesized(
        stages={s.node.id: s for s in stages},
        outdir=outdir,
        result=result,
        report=report,
        verdict=judge_report(report, result.acknowledgments),
    )


@pytest.fixture(scope="session")
def synthesized(
    tmp_path_factory: pytest.TempPathFactory, config: AppConfig, slo: SloCatalog, registry: Registry
) -> Synthesized:
    """Every environment, guarded exactly as app.py guards it, synthesized once per session."""
    return synthesize(config, slo, registry, tmp_path_factory.mktemp("cdk.out"))
