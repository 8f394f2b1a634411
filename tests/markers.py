"""Markers by fixture: a test is marked by what it starts, so nobody has to remember to tag it.

Loaded for every run (pyproject.toml: ``-p tests.markers``), the drills included. ``make test-fast`` deselects
the slow kinds with ``-m``; ``make test`` runs everything on pytest-xdist workers, and the ``xdist_group``
added here keeps each expensive session resource on one worker: one synthesis and one lab per run, not one per
worker.
"""

from __future__ import annotations

import pytest

# fixture -> marker. A fixture that starts one of these is listed here, not tagged in each test.
MARKER_OF_FIXTURE = {
    "synthesized": "synth",  # the whole app, guarded and synthesized (tests/conftest.py)
    "postgres": "postgres",  # a real PostgreSQL cluster (tests/service/conftest.py)
    "lab": "lab",  # the two-region lab of real processes (features/conftest.py)
    "lab_dir": "lab",  # a directory a test builds its own lab in (tests/ops/test_lab.py)
    "checkov": "checkov",  # checkov from its own virtualenv (tests/conftest.py)
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
    "cdk_cli": "runs the CDK CLI (Node)",
    "browser": "renders in headless Chromium",
    "gunicorn": "runs the service under real gunicorn",
}
# Markers whose resource is built once per session: all their tests go to one xdist worker.
SHARED_PER_SESSION = ("synth", "lab")


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description} (applied by fixture, tests/markers.py)")


def markers_for(fixture_names: set[str], *, lab_target: bool = True) -> list[str]:
    """The markers a test with these fixtures carries. Against AWS the drills' ``lab`` fixture starts nothing."""
    found = {marker for fixture, marker in MARKER_OF_FIXTURE.items() if fixture in fixture_names}
    if not lab_target and fixture_names & {"lab"} and "lab_dir" not in fixture_names:
        found.discard("lab")
    return sorted(found)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups in its own hook
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    lab_target = config.getoption("--target", default="lab") == "lab"
    for item in items:
        names = markers_for(set(getattr(item, "fixturenames", ())), lab_target=lab_target)
        for name in names:
            item.add_marker(name)
        shared = [name for name in SHARED_PER_SESSION if name in names]
        if shared:
            item.add_marker(pytest.mark.xdist_group(shared[0]))
