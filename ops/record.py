"""``python -m ops record-deployment``: the deploy workflow's decision for one environment step, as a delivery
record (gates/deliveries.py) in ``--out`` (the workflow uploads it to the evidence vault). ``python -m ops
rollback --record DIR`` writes the rollback record the same way. Exit 0 written, 2 bad arguments."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from pydantic import ValidationError

from gates.deliveries import DeploymentRecord, RollbackRecord, write_record

OUT = Path("reports/collected/deployments")  # git-ignored; the workflow uploads it to the evidence vault


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    record = commands.add_parser("record-deployment", help="write the decision of one environment step")
    record.add_argument("--env", required=True)
    record.add_argument("--step", required=True, choices=["primary", "secondary"])
    record.add_argument("--commit", required=True, help="the release's git sha")
    record.add_argument("--run-id", required=True, help="the workflow run")
    record.add_argument("--started-at", required=True, type=dt.datetime.fromisoformat,
                        help="when the step began changing the environment (ISO 8601 with a time zone)")
    record.add_argument("--outcome", required=True, choices=["promoted", "rolled_back"])
    record.add_argument("--out", type=Path, default=OUT)


def add_rollback_options(rollback: argparse.ArgumentParser) -> None:
    rollback.add_argument("--record", type=Path, metavar="DIR", help="also write a rollback record into DIR")
    rollback.add_argument("--commit", help="with --record: the release rolled back (git sha)")
    rollback.add_argument("--detected-at", type=dt.datetime.fromisoformat,
                          help="with --record: when the failure was noticed (default: now)")
    rollback.add_argument("--reason", help="with --record: why, in a sentence")


def deployment(options: argparse.Namespace) -> int:
    try:
        record = DeploymentRecord(env=options.env, step=options.step, commit=options.commit, run_id=options.run_id,
                                  started_at=options.started_at, finished_at=dt.datetime.now(dt.UTC),
                                  outcome=options.outcome)
    except ValidationError as error:
        print(f"ops: record-deployment: {error.errors()[0]['loc'][0]}: {error.errors()[0]['msg']}", file=sys.stderr)
        return 2
    print(f"ops: record-deployment: {write_record(record, options.out)}")
    return 0


def rollback(options: argparse.Namespace, started_at: dt.datetime, env: str) -> int:
    """After a rollback that ran: its record, when ``--record`` asks for one."""
    try:
        record = RollbackRecord(env=env, region=options.region, commit=options.commit or "",
                                started_at=started_at, finished_at=dt.datetime.now(dt.UTC),
                                detected_at=options.detected_at or started_at, reason=options.reason or "")
    except ValidationError as error:
        print(f"ops: rollback record: {error.errors()[0]['loc'][0]}: {error.errors()[0]['msg']} (--commit and "
              "--reason are required with --record)", file=sys.stderr)
        return 2
    print(f"ops: rollback record: {write_record(record, options.record)}")
    return 0
