"""python -m ops.lab up|down|status [--dir DIR]: the local two-region lab (see ops/lab/__init__.py).

Exit 0 done; 1 the lab could not be built or torn down; 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ops.lab.topology import DEFAULT_DIRECTORY, LabError, down, status, up


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.lab")
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIRECTORY)
    parser.add_argument("--version", default="v1", help="the version both colours start with")
    options = parser.parse_args(argv)
    try:
        if options.action == "up":
            state = up(options.dir, options.version)
            print(f"lab: up: front {state.front_url}, regions " + ", ".join(
                f"{name} {f'http://127.0.0.1:{r.balancer_port}'} (db {r.database_port})"
                for name, r in state.regions.items()))
        elif options.action == "down":
            state = down(options.dir)
            print(f"lab: down: {len(state.pids())} processes and 2 PostgreSQL servers stopped")
        else:
            print(json.dumps(status(options.dir), indent=1, default=str))
    except LabError as error:
        print(f"lab: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
