"""tests/markers.py: markers come from the fixtures a test uses, and a marked resource stays on one worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.markers import MARKED, MARKER_OF_FIXTURE, markers_for

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("fixtures, expected", [
    ({"synthesized", "tmp_path"}, ["synth"]),
    ({"database_url", "postgres", "gunicorn"}, ["gunicorn", "postgres"]),
    ({"checkov", "synthesized"}, ["checkov", "synth"]),
    ({"chromium"}, ["browser"]),
    ({"lab", "driver"}, ["lab"]),
    ({"tmp_path", "capsys"}, []),
])
def test_a_test_is_marked_by_the_fixtures_it_uses(fixtures, expected):
    assert markers_for(fixtures) == expected


def test_drills_against_aws_start_no_lab_and_are_not_marked_lab():
    assert markers_for({"lab", "driver"}, lab_target=False) == []
    assert markers_for({"lab_dir"}, lab_target=False) == ["lab"]  # a test that builds its own lab still does


def test_every_marker_is_declared_in_the_ini(pytestconfig):
    declared = {line.split(":")[0] for line in pytestconfig.getini("markers")}
    assert set(MARKER_OF_FIXTURE.values()) <= declared


def test_the_slow_kinds_are_marked_in_this_suite(pytestconfig):
    """Each kind has tests carrying it (counted before any -m selection), so `make test-fast` really leaves
    something out and a renamed fixture cannot silently unmark a kind."""
    marked = pytestconfig.stash[MARKED]
    if sum(marked.values()) < 100:
        pytest.skip("only meaningful when the whole suite is collected")
    assert {kind for kind, count in marked.items() if count} >= set(MARKER_OF_FIXTURE.values())


def test_a_shared_resource_stays_on_one_xdist_worker(tmp_path):
    """Two modules that share the session's synthesis run on one worker; the others spread. A pytest or xdist
    upgrade that silently drops the grouping (pytest-dev/pytest-xdist#1386) fails here."""
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture(scope='session')\ndef synthesized():\n    return 'app'\n")
    body = "import os\n\ndef test_{name}({fixture}):\n    open('{out}/{name}', 'w').write(os.environ['PYTEST_XDIST_WORKER'])\n"
    names = {"a1": "synthesized", "b1": "synthesized", "c1": "tmp_path", "d1": "tmp_path", "e1": "tmp_path",
             "f1": "tmp_path"}
    for name, fixture in names.items():
        (tmp_path / f"test_{name}.py").write_text(body.format(name=name, fixture=fixture, out=tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "xdist.plugin", "-p", "tests.markers", "-n", "2", "--dist",
         "loadgroup", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        # Only the plugins this needs: the workers start in a second instead of importing hypothesis & co.
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert done.returncode == 0, done.stdout[-2000:]
    worker = {name: (tmp_path / name).read_text() for name in names}
    assert worker["a1"] == worker["b1"]
    assert set(worker.values()) == {"gw0", "gw1"}
