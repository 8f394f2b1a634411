"""python -m ops.lab up|down|reset|status [--dir DIR]: the local two-region lab (see ops/lab/__init__.py).

reset: back to the lab as built (traffic on each live colour, both regions in service, the standby
streaming); a lab whose standby was promoted is torn down and built again.

Exit 0 done; 1 the lab could not be built or torn down; 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ops.lab.driver import LabDriver
from ops.lab.topology import DEFAULT_DIRECTORY, LabError, down, status, up


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.lab")
    parser.add_argument("action", choices=["up", "down", "reset", "status"])
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
        elif options.action == "reset":
            print(f"lab: reset: {LabDriver(options.dir).reset()}")
        else:
            print(json.dumps(status(options.dir), indent=1, default=str))
    except LabError as error:
        print(f"lab: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
