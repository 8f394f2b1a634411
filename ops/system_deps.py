"""python3 -m ops.system_deps {setup,check,test}: the Debian packages a make target needs, installed when missing.

The one list of system packages: the Makefile calls this before `make setup`, `make check` and `make test`, and
`.ci/run` only calls the README's commands. As root, missing packages are installed with apt-get; as anyone else it
prints the one `sudo apt-get install ...` line to run and exits 2 before anything else starts, so a missing server
never shows up as twenty unrelated test failures.

Runs under the system python3 before any virtualenv exists, so it imports only the standard library.
Exit codes: 0 everything present (or installed), 2 something is missing and was not installed.
"""

from __future__ import annotations

import argparse
import ctypes.util
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

TARGETS = ("setup", "check", "test")
POSTGRES_LIBDIR = Path("/usr/lib/postgresql")


def postgres_bin() -> Path:
    """The PostgreSQL server binaries the tests and the lab start: $PG_BIN, else the newest version installed
    (Debian 12 ships 15, Ubuntu 24.04 16), else where Debian 12 puts them (reported missing by the probe)."""
    if "PG_BIN" in os.environ:
        return Path(os.environ["PG_BIN"])
    installed = sorted((path.parent for path in POSTGRES_LIBDIR.glob("*/bin/initdb")),
                       key=lambda bin_dir: int(bin_dir.parent.name) if bin_dir.parent.name.isdigit() else 0)
    return installed[-1] if installed else POSTGRES_LIBDIR / "15" / "bin"


def command(name: str, *fallbacks: str) -> Callable[[], bool]:
    """On PATH, or at one of the fallback paths (a non-root PATH often lacks /usr/sbin)."""
    return lambda: shutil.which(name) is not None or any(Path(path).is_file() for path in fallbacks)


def file(path: Path | str) -> Callable[[], bool]:
    return lambda: Path(path).is_file()


def library(name: str) -> Callable[[], bool]:
    """A shared library the dynamic loader can find (what ctypes and cffi bindings load at import)."""
    return lambda: ctypes.util.find_library(name) is not None


def module(name: str) -> Callable[[], bool]:
    return lambda: importlib.util.find_spec(name) is not None


# Where Debian's haproxy package puts it: /usr/sbin is often not on a non-root PATH (ops/lab/haproxy.py runs it).
HAPROXY_SBIN = "/usr/sbin/haproxy"


@dataclass(frozen=True, kw_only=True)
class Requirement:
    packages: tuple[str, ...]
    why: str
    present: Callable[[], bool]
    # The first make target that needs it; every later target of TARGETS needs it too.
    since: str

    def needed_for(self, target: str) -> bool:
        return TARGETS.index(self.since) <= TARGETS.index(target)


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(packages=("python3-venv",), why="make setup builds .venv", present=module("ensurepip"),
                since="setup"),
    Requirement(packages=("npm",), why="make setup installs Node 22 and the CDK CLI from the npm registry",
                present=command("npm"), since="setup"),
    # WeasyPrint lays the evidence PDF out with Pango (make check writes the bundle).
    Requirement(packages=("libpango-1.0-0", "libpangoft2-1.0-0"), why="the evidence PDF",
                present=library("pangoft2-1.0"), since="check"),
    # The distribution's own version: whichever it is, postgres_bin() finds it.
    Requirement(packages=("postgresql",), why="the service tests and the lab's databases",
                present=lambda: (postgres_bin() / "initdb").is_file(), since="test"),
    Requirement(packages=("redis-server",), why="the cache tests", present=command("redis-server"), since="test"),
    Requirement(packages=("haproxy",), why="the lab's load balancers (DR drills)",
                present=command("haproxy", HAPROXY_SBIN), since="test"),
    # Playwright drives Debian's browser; a browser downloaded by Playwright would need the open internet.
    Requirement(packages=("chromium",), why="rendering the evidence report", present=file("/usr/bin/chromium"),
                since="test"),
    Requirement(packages=("shellcheck",), why="actionlint checks the workflows' run: scripts with it",
                present=command("shellcheck"), since="test"),
)


def missing_packages(target: str, requirements: Sequence[Requirement] = REQUIREMENTS) -> list[str]:
    return [package for requirement in requirements
            if requirement.needed_for(target) and not requirement.present()
            for package in requirement.packages]


def install_command(packages: Sequence[str]) -> list[str]:
    # Recommends would add a desktop's worth of packages to chromium and PostgreSQL; the tests need none of them.
    return ["apt-get", "install", "-y", "--no-install-recommends", *packages]


def _apt_get(args: list[str]) -> int:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(args, env=env, check=False).returncode


def main(argv: Sequence[str] | None = None, requirements: Sequence[Requirement] = REQUIREMENTS) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m ops.system_deps", description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=TARGETS, help="the make target about to run")
    target = parser.parse_args(argv).target
    missing = missing_packages(target, requirements)
    if not missing:
        return 0
    names = " ".join(missing)
    if shutil.which("apt-get") is None:
        print(f"system-deps: make {target} needs the Debian packages {names} (or your system's equivalents); "
              "install them, then run it again", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print(f"system-deps: make {target} needs Debian packages that are missing; run: "
              f"sudo apt-get update && sudo {shlex.join(install_command(missing))}", file=sys.stderr)
        return 2
    print(f"system-deps: installing {names} for make {target}", file=sys.stderr)
    if _apt_get(["apt-get", "update", "-qq"]) != 0 or _apt_get([*install_command(missing), "-qq"]) != 0:
        print(f"system-deps: apt-get could not install {names}; see its output above", file=sys.stderr)
        return 2
    still_missing = missing_packages(target, requirements)
    if still_missing:
        print(f"system-deps: installed, yet still not found: {' '.join(still_missing)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
