"""python -m ops rollback --region R [--target lab --dir D | --target aws --env staging]

All traffic of the region back to its live colour. On AWS: a pending or running ECS deployment is stopped with
rollback; when none runs, a deployment back to the revision the newest completed one replaced is started (with
the service's strategy, bake time and alarms). Exit 0 done, 1 the target refused, 2 usage or no such target.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ops.driver import Driver, DriverError
from ops.lab.topology import DEFAULT_DIRECTORY, LabError


def _driver(options: argparse.Namespace) -> Driver:
    if options.target == "aws":
        from ops.aws_driver import AwsDriver

        return AwsDriver.for_environment(options.env)
    from ops.lab.driver import LabDriver

    return LabDriver(options.dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops")
    commands = parser.add_subparsers(dest="command", required=True)
    rollback = commands.add_parser("rollback", help="all traffic of a region back to its live colour (AWS: or to "
                                   "the previous service revision)")
    rollback.add_argument("--region", required=True)
    rollback.add_argument("--target", choices=["lab", "aws"], default="lab")
    rollback.add_argument("--dir", type=Path, default=DEFAULT_DIRECTORY, help="the lab's directory")
    rollback.add_argument("--env", default="staging", help="the AWS environment")
    options = parser.parse_args(argv)
    try:
        driver = _driver(options)
        driver.rollback(options.region)
        status = driver.status().regions[options.region]
    except LabError as error:
        print(f"ops: error: {error}", file=sys.stderr)
        return 2
    except (DriverError, KeyError, RuntimeError) as error:  # HaproxyError is a RuntimeError
        print(f"ops: rollback of {options.region} failed: {error}", file=sys.stderr)
        return 1
    print(f"ops: rollback: {options.region} live colour {status.live_colour} takes "
          f"{status.weights.get(status.live_colour)} % of traffic")
    return 0


if __name__ == "__main__":
    sys.exit(main())
