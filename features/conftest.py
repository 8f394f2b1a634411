"""Drills: the same feature files run on the local lab (default) or a deployed environment.

    pytest features/                                   the lab: built once, reset before each scenario
    pytest features/ --target aws --env staging        a deployed environment (AWS credentials needed)

Measurements (RTO, RPO, failed requests, rollback time) go to features/out/measurements.json at the end of
the session, for `make drill`'s summary and the evidence generator.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from features.steps.drill_steps import *  # noqa: F403  (pytest-bdd steps are fixtures: they must be in scope)
from features.steps.drill_steps import OUT
from features.steps.fault_steps import *  # noqa: F403
from features.steps.game_day_steps import *  # noqa: F403
from gates import provenance
from ops.driver import Driver
from policies.slo import ServiceLevelObjectives, load_slo


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--target", choices=["lab", "aws"], default="lab", help="where the drills run")
    parser.addoption("--env", default="dev", help="environment whose SLO applies (and, with aws, the target)")
    parser.addoption("--destructive", action="store_true",
                     help="with aws: also the drills that promote the replica (failover, switchover)")
    parser.addoption("--lab-fault", action="append", default=[],
                     help="build the lab broken on purpose (no-backup-region, no-flag-file) to see a drill fail")
    parser.addoption("--rpo-objective-seconds", type=float,
                     help="judge RPO against this instead of the SLO's (to see the stalled-replica drill fail)")
    parser.addoption("--rto-model-seconds", type=float,
                     help="judge the lab's failover RTO against this bound instead of its budget model's (to see it "
                          "fail)")


def pytest_unconfigure(config: pytest.Config) -> None:
    """The cucumber report's provenance, after pytest-bdd wrote it (at session finish): a release bundle needs it
    for each of the drill's files."""
    report = config.getoption("cucumber_json_path", default=None)
    if report and Path(report).is_file():
        provenance.write(Path(report))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # One lab serves every scenario; after a promotion it must be rebuilt, so the drills that promote run last
    # (a stable sort: everything else keeps its order).
    items.sort(key=lambda item: item.get_closest_marker("destructive") is not None)
    if config.getoption("--target") != "aws":
        return
    lab_only = pytest.mark.skip(reason="lab-only: ECS-native deployments shift traffic and roll back on AWS")
    # A promoted replica cannot be demoted: the environment needs a rebuilt replica afterwards
    # (docs/runbooks/dr-drills.md), so these run against AWS only when the operator asks for them.
    destructive = pytest.mark.skip(reason="promotes the replica; run with --destructive, then rebuild it")
    for item in items:
        if item.get_closest_marker("lab_only"):
            item.add_marker(lab_only)
        elif item.get_closest_marker("destructive") and not config.getoption("--destructive"):
            item.add_marker(destructive)


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    # An outline's examples share a name; their parameters keep them apart in the evidence.
    example = f" [{request.node.callspec.id}]" if hasattr(request.node, "callspec") else ""
    request.node.drill = {"feature": Path(feature.filename).stem, "scenario": f"{scenario.name}{example}"}


@pytest.fixture(scope="session")
def measurements(request: pytest.FixtureRequest) -> Iterator[list[dict[str, Any]]]:
    found: list[dict[str, Any]] = []
    yield found
    # Only a drill run (make drill: --cucumberjson) leaves evidence; `make test` running the features must not
    # replace one run's measurements and leave another run's scenarios beside them.
    if request.config.getoption("cucumber_json_path", default=None):
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "measurements.json").write_text(json.dumps({"measurements": found}, indent=1))
        provenance.write(OUT / "measurements.json")


@pytest.fixture(scope="session")
def slo(request: pytest.FixtureRequest) -> ServiceLevelObjectives:
    objectives = load_slo().for_env(request.config.getoption("--env"))
    rpo_s = request.config.getoption("--rpo-objective-seconds")
    # Only for showing that a drill fails: slo.yaml's validation would refuse an RPO below the replica-lag alarm.
    return objectives if rpo_s is None else objectives.model_copy(update={"rpo_minutes": rpo_s / 60})


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | None]:
    """The lab every drill of this session shares (tests/markers.py keeps the drills on one xdist worker);
    None against AWS."""
    if request.config.getoption("--target") == "aws":
        yield None
        return
    from ops.lab.topology import STATE_FILE, down, up

    directory = tmp_path_factory.mktemp("lab")
    up(directory, faults=frozenset(request.config.getoption("--lab-fault")))
    try:
        yield directory
    finally:
        if (directory / STATE_FILE).exists():  # a rebuild that failed left nothing running
            down(directory)


@pytest.fixture
def driver(request: pytest.FixtureRequest, lab: Path | None) -> Iterator[Driver]:
    if lab is None:
        from ops.aws_driver import AwsDriver

        yield AwsDriver.for_environment(request.config.getoption("--env"))
        return
    from ops.lab.driver import LabDriver

    driver = LabDriver(lab)
    # Whatever the previous scenario left, this one starts from a lab as drills expect it; how (and why it had
    # to be rebuilt) is kept with the scenario's lab logs.
    (lab / "reset.txt").write_text(f"{driver.reset()}\n")
    try:
        yield driver
    finally:
        logs = OUT / "lab-logs" / request.node.name
        shutil.copytree(lab, logs, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.sock"))
