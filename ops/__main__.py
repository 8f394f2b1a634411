"""python -m ops rollback --region R [--target lab --dir D | --target aws --env staging]
python -m ops read-only on|off [--target lab --dir D | --target aws --env staging]
python -m ops verify-release --env staging --region R [--region R2] --image-tag <git sha>
python -m ops record-deployment --env prod --step primary --commit <sha> --run-id <id> --started-at <ISO>
    --outcome promoted|rolled_back [--out reports/collected/deployments]
python -m ops judge-bake --env staging --region R --image-tag <git sha> --profile staging --host <url>

record-deployment and rollback's --record DIR: ops/record.py. judge-bake: ops/bake.py.

read-only: pause (on) or resume (off) writes in both regions through the service's read_only flag. On AWS a new
version of each region's AppConfig flag profile, deployed all at once (no bake: its 503s are intended); returns
when both deployments completed. Tasks apply it within their flag TTL (30 s). Exit 0 done, 1 refused, 2 usage.

verify-release (AWS): exit 0 when every named region's service runs the image tagged with the release, 1 when
one runs another (a rolled-back release must not be verified again as if it were the new one).

All traffic of the region back to its live colour. On AWS: a pending or running ECS deployment is stopped with
rollback; when none runs, a deployment back to the revision the newest completed one replaced is started (with
the service's strategy, bake time and alarms). Exit 0 done, 1 the target refused, 2 usage or no such target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from ops import record
from ops.driver import Driver, DriverError
from ops.lab.topology import DEFAULT_DIRECTORY, LabError

ROLLBACK_WAIT_S = 15 * 60  # a deployment back to the previous revision, with the service's bake


def _driver(options: argparse.Namespace) -> Driver:
    if options.target == "aws":
        from ops.aws_driver import AwsDriver

        return AwsDriver.for_environment(options.env)
    from ops.lab.driver import LabDriver

    return LabDriver(options.dir)


def _verify_release(options: argparse.Namespace) -> int:
    from ops.aws_driver import AwsDriver

    try:
        driver = AwsDriver.for_environment(options.env)
        running = {region: driver.running_image_tag(region) for region in options.region}
    except (DriverError, KeyError) as error:
        print(f"ops: verify-release: error: {error}", file=sys.stderr)
        return 2
    wrong = {region: tag for region, tag in running.items() if tag != options.image_tag}
    for region, tag in wrong.items():
        print(f"ops: verify-release: {region} runs {tag or 'an untagged image'}, not {options.image_tag}",
              file=sys.stderr)
    if not wrong:
        print(f"ops: verify-release: {', '.join(running)} run {options.image_tag}")
    return 1 if wrong else 0


def _read_only(options: argparse.Namespace) -> int:
    try:
        driver = _driver(options)
        driver.set_read_only(options.state == "on")
    except LabError as error:
        print(f"ops: error: {error}", file=sys.stderr)
        return 2
    except DriverError as error:
        print(f"ops: read-only {options.state} failed: {error}", file=sys.stderr)
        return 1
    # The deployment is complete; each server applies it when its flag cache expires.
    time.sleep(driver.flag_ttl_s)
    print(f"ops: read-only {options.state}: {'writes answer 503' if options.state == 'on' else 'writes resume'} "
          f"in every region (every server has re-read its flags: {driver.flag_ttl_s:g} s passed)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops")
    commands = parser.add_subparsers(dest="command", required=True)
    rollback = commands.add_parser("rollback", help="all traffic of a region back to its live colour (AWS: or to "
                                   "the previous service revision)")
    rollback.add_argument("--region", required=True)
    read_only = commands.add_parser("read-only", help="pause (on) or resume (off) writes in both regions")
    read_only.add_argument("state", choices=["on", "off"])
    record.add_rollback_options(rollback)
    for command in (rollback, read_only):
        command.add_argument("--target", choices=["lab", "aws"], default="lab")
        command.add_argument("--dir", type=Path, default=DEFAULT_DIRECTORY, help="the lab's directory")
        command.add_argument("--env", default="staging", help="the AWS environment")
    verify = commands.add_parser("verify-release", help="AWS: does each region run the release's image tag?")
    verify.add_argument("--env", required=True, help="the AWS environment")
    verify.add_argument("--region", action="append", required=True, help="repeat for each region")
    verify.add_argument("--image-tag", required=True, help="the release's git sha")
    bake = commands.add_parser("judge-bake", help="AWS: drive the load profile while the release's canary bakes; "
                               "roll it back on a failed run")
    bake.add_argument("--env", required=True, help="the AWS environment")
    bake.add_argument("--region", required=True)
    bake.add_argument("--image-tag", required=True, help="the release's git sha")
    bake.add_argument("--profile", required=True, help="the load profile (load/profiles)")
    bake.add_argument("--host", required=True, help="the environment's public URL")
    record.add_parser(commands)
    options = parser.parse_args(argv)
    if options.command == "record-deployment":
        return record.deployment(options)
    if options.command == "judge-bake":
        from ops import bake as judge

        return judge.main(options.env, options.region, options.image_tag, options.profile, options.host)
    if options.command == "verify-release":
        return _verify_release(options)
    if options.command == "read-only":
        return _read_only(options)
    started_at = dt.datetime.now(dt.UTC)
    try:
        driver = _driver(options)
        print(f"ops: rollback: {driver.rollback(options.region)}")
        status = driver.status().regions[options.region]
    except LabError as error:
        print(f"ops: error: {error}", file=sys.stderr)
        return 2
    except (DriverError, KeyError, RuntimeError) as error:  # HaproxyError is a RuntimeError
        print(f"ops: rollback of {options.region} failed: {error}", file=sys.stderr)
        return 1
    print(f"ops: rollback: {options.region} live colour {status.live_colour} takes "
          f"{status.weights.get(status.live_colour)} % of traffic")
    if options.record:
        # The record measures the restore: it is stamped once the rollback has finished, not when it was asked for.
        if not driver.wait_settled(options.region, ROLLBACK_WAIT_S):
            print(f"ops: rollback of {options.region} still running after {ROLLBACK_WAIT_S:g} s; the record ends "
                  "there", file=sys.stderr)
        return record.rollback(options, started_at, options.env if options.target == "aws" else "lab")
    return 0


if __name__ == "__main__":
    sys.exit(main())
