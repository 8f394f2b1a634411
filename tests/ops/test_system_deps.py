"""ops/system_deps.py: the one list of Debian packages; installed as root, named in one line otherwise."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from ops import system_deps
from ops.system_deps import REQUIREMENTS, TARGETS, Requirement, main, missing_packages

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only an apt-get that records its arguments: npm, redis-server and shellcheck are gone."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt = bin_dir / "apt-get"
    apt.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'apt.log'}\n")
    apt.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return tmp_path


def test_missing_packages_as_a_user_exit_2_with_the_one_command_to_run(bare_path, monkeypatch, capsys):
    monkeypatch.setattr(system_deps.os, "geteuid", lambda: 1000)
    assert main(["test"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    command = line.split("; run: ", 1)[1]
    assert re.fullmatch(r"sudo apt-get update && sudo apt-get install -y --no-install-recommends [a-z0-9. -]+", command)
    assert {"npm", "redis-server", "shellcheck"} <= set(command.split())
    assert not (bare_path / "apt.log").exists()  # nothing was attempted


def test_missing_packages_as_root_are_installed_then_probed_again(bare_path, monkeypatch, capsys):
    monkeypatch.setattr(system_deps.os, "geteuid", lambda: 0)
    # The stub installs nothing, so the second probe still misses them: that is an error, not a pass.
    assert main(["test"]) == 2
    calls = (bare_path / "apt.log").read_text().splitlines()
    assert calls[0] == "update -qq"
    assert calls[1].startswith("install -y --no-install-recommends ") and "redis-server" in calls[1]
    assert "installed, yet still not found: npm redis-server shellcheck" in capsys.readouterr().err


def test_without_apt_get_the_packages_are_named(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["test"]) == 2
    assert "needs the Debian packages npm redis-server shellcheck" in capsys.readouterr().err


def test_nothing_missing_is_silent(capsys):
    present = Requirement(packages=("x",), why="", present=lambda: True, since="setup")
    assert main(["test"], requirements=[present]) == 0
    assert capsys.readouterr() == ("", "")


def test_each_target_needs_what_the_one_before_it_needs():
    needed = {target: set(missing_packages(target, [
        Requirement(packages=(r.packages[0],), why=r.why, present=lambda: False, since=r.since)
        for r in REQUIREMENTS])) for target in TARGETS}
    assert needed["setup"] < needed["check"] < needed["test"]
    assert {"npm", "python3-venv"} <= needed["setup"] and "libpango-1.0-0" in needed["check"]
    assert {"haproxy", "redis-server", "chromium", "shellcheck", "postgresql"} <= needed["test"]


def test_the_probes_see_what_the_test_run_uses():
    assert missing_packages("test") == []  # this machine is set up: the suite itself is running


def test_make_checks_system_packages_before_anything_else_and_ci_only_calls_the_readme():
    for target, needs in (("test", "test"), ("test-fast", "test"), ("drill", "test"), ("load", "test"),
                          ("serve", "test"), ("check", "check"), ("setup", "setup")):
        dry = subprocess.run(["make", "--no-print-directory", "-n", "-B", target], cwd=ROOT, capture_output=True,
                             text=True, check=False, env={**os.environ, "TEST_WORKERS": "2"}).stdout.splitlines()
        # The setup's packages first, then the target's own, one apt-get after the other, before anything else.
        expected = ["python3 -m ops.system_deps setup"] + ([f"python3 -m ops.system_deps {needs}"] if needs != "setup" else [])
        assert dry[:len(expected)] == expected, (target, dry[:3])
    ci = (ROOT / ".ci" / "run").read_text()
    assert "apt-get" not in ci and "haproxy" not in ci  # the package list lives in ops/system_deps.py alone
    commands = [line for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert [c for c in commands if c.startswith("make ")] == ["make test", "make check"]


def test_the_newest_installed_postgresql_is_used_unless_pg_bin_says_otherwise(tmp_path, monkeypatch):
    for version in ("9", "15", "16"):
        (tmp_path / version / "bin").mkdir(parents=True)
        (tmp_path / version / "bin" / "initdb").touch()
    monkeypatch.setattr(system_deps, "POSTGRES_LIBDIR", tmp_path)
    monkeypatch.delenv("PG_BIN", raising=False)
    assert system_deps.postgres_bin() == tmp_path / "16" / "bin"
    monkeypatch.setenv("PG_BIN", "/opt/pg/bin")
    assert system_deps.postgres_bin() == Path("/opt/pg/bin")
