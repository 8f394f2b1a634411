"""tests/markers.py: markers come from the fixtures a test uses, and a marked resource stays on one worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.markers import GROUP_SECONDS, MARKED, MARKER_OF_FIXTURE, markers_for

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
    if pytestconfig.args_source != pytest.Config.ArgsSource.TESTPATHS:
        pytest.skip("only meaningful when the whole suite is collected (a CI shard or a chosen file is not)")
    marked = pytestconfig.stash[MARKED]
    assert {kind for kind, count in marked.items() if count} >= set(MARKER_OF_FIXTURE.values())


def _suite(tmp_path: Path, fixtures: dict[str, str]) -> None:
    """A suite of one-test modules in tmp_path; each test writes the xdist worker it ran on to a file of its name."""
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture(scope='session')\ndef synthesized():\n    return 'app'\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = .\n")
    body = "import os\n\ndef test_{name}({fixture}):\n    open('{out}/{name}', 'w').write(os.environ['PYTEST_XDIST_WORKER'])\n"
    for name, fixture in fixtures.items():
        (tmp_path / f"test_{name}.py").write_text(body.format(name=name, fixture=fixture, out=tmp_path))


def _run_xdist(tmp_path: Path, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "xdist.plugin", "-p", "tests.markers", "-n", "2", "--dist",
         "loadgroup", "-q", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        # Only the plugins this needs: the workers start in a second instead of importing hypothesis & co.
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert done.returncode == 0, done.stdout[-2000:]


def test_a_shared_resource_stays_on_one_xdist_worker(tmp_path):
    """Two modules that share the session's synthesis run on one worker; the others spread. A pytest or xdist
    upgrade that silently drops the grouping (pytest-dev/pytest-xdist#1386) fails here."""
    names = {"a1": "synthesized", "b1": "synthesized", "c1": "tmp_path", "d1": "tmp_path", "e1": "tmp_path",
             "f1": "tmp_path"}
    _suite(tmp_path, names)
    _run_xdist(tmp_path, "-p", "no:cacheprovider")
    worker = {name: (tmp_path / name).read_text() for name in names}
    assert worker["a1"] == worker["b1"]
    assert set(worker.values()) == {"gw0", "gw1"}


def test_only_a_whole_run_stores_the_group_durations_that_order_the_next(tmp_path):
    _suite(tmp_path, {"a1": "synthesized", "b1": "synthesized", "c1": "tmp_path"})
    stored = tmp_path / ".pytest_cache" / "v" / GROUP_SECONDS

    _run_xdist(tmp_path, "-k", "a1")
    assert not stored.exists()  # the synth group without b1 would be stored as if it were the whole group

    _run_xdist(tmp_path)
    assert set(json.loads(stored.read_text())) == {"synth", "test_c1.py"}


def test_one_file_runs_without_xdist_under_strict_markers(tmp_path):
    """``pytest -p no:xdist one_file.py`` (a debugger session) works: the group marker is declared without xdist."""
    (tmp_path / "test_alone.py").write_text("def test_alone():\n    pass\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.markers", "--strict-markers", "-q", "-p", "no:cacheprovider",
         str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 passed" in done.stdout


def test_the_clean_clone_baseline_names_groups_that_exist():
    """A renamed or deleted module left in the baseline would order nothing; the shared groups are named as such."""
    from tests.markers import BASELINE_SECONDS, SHARED_PER_SESSION

    assert BASELINE_SECONDS and all(seconds > 0 for seconds in BASELINE_SECONDS.values())
    for group in BASELINE_SECONDS:
        assert group in SHARED_PER_SESSION.values() or (ROOT / group).is_file(), group
