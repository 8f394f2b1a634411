"""Markers by fixture: a test is marked by what it starts, so nobody has to remember to tag it.

Loaded for every run (pyproject.toml: ``-p tests.markers``), the drills included. ``make test-fast`` deselects
the slow kinds with ``-m``; ``make test`` runs everything on pytest-xdist workers (``--dist loadgroup
--no-loadscope-reorder``), and the ``xdist_group`` added here keeps each expensive session resource on one
worker: one synthesis and one lab per run, not one per worker.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

# fixture -> marker. A fixture that starts one of these is listed here, not tagged in each test.
MARKER_OF_FIXTURE = {
    "synthesized": "synth",  # the whole app, guarded and synthesized (tests/conftest.py)
    "postgres": "postgres",  # a real PostgreSQL cluster (tests/service/conftest.py)
    "lab": "lab",  # the two-region lab of real processes (features/conftest.py)
    "lab_dir": "lab",  # a directory a test builds its own lab in (tests/ops/test_lab.py)
    "checkov": "checkov",  # checkov from its own virtualenv (tests/conftest.py)
    "cfn_lint_prod": "cfn_lint",  # cfn-lint over the prod templates (tests/aspects/test_lint.py)
    "cdk_cli": "cdk_cli",  # the pinned CDK CLI on Node (tests/conftest.py)
    "chromium": "browser",  # Debian's Chromium through Playwright (tests/reports/conftest.py)
    "gunicorn": "gunicorn",  # the service under real gunicorn (tests/conftest.py)
    "load_service": "gunicorn",  # PostgreSQL + gunicorn for the load gate (tests/load/test_gate.py)
}
MARKERS = {
    "synth": "uses the session's guarded synthesis of every environment",
    "postgres": "starts or uses a real PostgreSQL server",
    "lab": "drives the local two-region lab (HAProxy, PostgreSQL primary + standby, gunicorn)",
    "checkov": "runs checkov",
    "cfn_lint": "runs cfn-lint over the synthesized templates",
    "cdk_cli": "runs the CDK CLI (Node)",
    "browser": "renders in headless Chromium",
    "gunicorn": "runs the service under real gunicorn",
}
# Markers whose resource is built once per session: all their tests go to one xdist worker. Every other test
# goes with its module, so a module's own fixtures (a database, a service, a bundle) are built once, not on
# each worker that draws one of its tests.
# fixture -> its group. A test that builds a lab of its own (lab_dir) is marked lab too, but goes with its module:
# it does not need the session's lab, and queued behind the drills it would make their worker the last to finish.
SHARED_PER_SESSION = {"lab": "lab", "synthesized": "synth"}
# With --no-loadscope-reorder xdist hands groups out in collection order, so the longest go first and the many
# quick ones fill in at the end: the workers finish together instead of one waiting on the other's last group.
# "Longest" is what the previous run measured (pytest's cache); without a cache the shared resources come first
# (the lab's drills are the longest group), then tests of these kinds, which take seconds each.
SLOW_KINDS = ("cdk_cli", "checkov", "cfn_lint", "gunicorn", "browser")
GROUP_SECONDS = "records/group-seconds"
# What a clean clone (CI's) orders by until it has measured itself: the groups of 3 s or more from a whole run on
# 2 cores (copy them from .pytest_cache/v/records/group-seconds when the suite's shape changes). Without it a
# clean clone ordered by kind alone and its `make test` ran up to 300 s instead of about 210 s.
BASELINE_SECONDS: dict[str, float] = json.loads(Path(__file__).with_name("group_seconds.json").read_text())


def _group(item: pytest.Item) -> str:
    return str(item.get_closest_marker("xdist_group").args[0])  # type: ignore[union-attr]


def _static_rank(item: pytest.Item) -> int:
    for rank, kinds in enumerate((("lab",), ("synth",), SLOW_KINDS)):
        if any(item.get_closest_marker(kind) for kind in kinds):
            return rank
    return 3


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description} (applied by fixture, tests/markers.py)")
    # Registered here too: with ``-p no:xdist`` (one test file under a debugger) nobody else declares it, and
    # --strict-markers would then refuse the groups added below.
    config.addinivalue_line("markers", "xdist_group(name): the pytest-xdist worker group (tests/markers.py)")
    if _times_every_group(config):
        config.pluginmanager.register(GroupTimer(config), "records-group-timer")


def _times_every_group(config: pytest.Config) -> bool:
    """Only a whole ``make test`` run measures the groups: a chosen file, -k or -m would store partial sums
    under the shared groups' names, and a run without loadgroup has no group in its node ids."""
    return (not hasattr(config, "workerinput")  # the controller sees every worker's reports
            and config.getoption("dist", default="no") == "loadgroup"
            and config.args_source == pytest.Config.ArgsSource.TESTPATHS
            and not config.getoption("markexpr", default="") and not config.getoption("keyword", default=""))


class GroupTimer:
    """Adds up each group's test durations and keeps them in pytest's cache for the next run's ordering."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        group = report.nodeid.rpartition("@")[2]  # loadgroup appends the group to the id: "...::test_x@synth"
        self.seconds[group] = self.seconds.get(group, 0.0) + report.duration

    def pytest_sessionfinish(self) -> None:
        cache = getattr(self.config, "cache", None)
        if cache is not None and self.seconds:
            cache.set(GROUP_SECONDS, {**cache.get(GROUP_SECONDS, {}), **{
                group: round(seconds, 1) for group, seconds in self.seconds.items()}})


def markers_for(fixture_names: set[str], *, lab_target: bool = True) -> list[str]:
    """The markers a test with these fixtures carries. Against AWS the drills' ``lab`` fixture starts nothing."""
    found = {marker for fixture, marker in MARKER_OF_FIXTURE.items() if fixture in fixture_names}
    if not lab_target and fixture_names & {"lab"} and "lab_dir" not in fixture_names:
        found.discard("lab")
    return sorted(found)


# How many collected tests carry each marker, before -m deselects any: tests/test_markers.py reads it.
MARKED = pytest.StashKey[Counter[str]]()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups, and before -m deselects, in their own hooks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    lab_target = config.getoption("--target", default="lab") == "lab"
    marked = config.stash.setdefault(MARKED, Counter())
    for item in items:
        names = markers_for(set(getattr(item, "fixturenames", ())), lab_target=lab_target)
        marked.update(names)
        for name in names:
            item.add_marker(name)
        fixtures = set(getattr(item, "fixturenames", ()))
        shared = [group for fixture, group in SHARED_PER_SESSION.items() if fixture in fixtures and group in names]
        item.add_marker(pytest.mark.xdist_group(shared[0] if shared else item.nodeid.split("::")[0]))
    cache = getattr(config, "cache", None)  # absent under -p no:cacheprovider
    measured: dict[str, float] = {**BASELINE_SECONDS, **(cache.get(GROUP_SECONDS, {}) if cache else {})}
    items.sort(key=lambda item: (-measured.get(_group(item), 0.0), _static_rank(item)))
