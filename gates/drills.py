"""The drills' one-line summary, from features/out/measurements.json (written by `pytest features/`).

    python -m gates.drills [features/out/measurements.json] [--target aws [--destructive]]

Every feature that should have run must have its measurements; against AWS the ones features/conftest.py skips
on purpose (``@lab_only``; ``@destructive`` without --destructive) are not required.

Exit 0 every measurement met its threshold; 1 one did not; 2 a measurement the summary needs is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gates.verdict import Verdict

FEATURES = Path(__file__).resolve().parents[1] / "features"
DEFAULT = FEATURES / "out" / "measurements.json"
# What the summary line shows: each part formats the worst value over scenarios (max) of one or more
# (feature, metric, field) measurements; "threshold" reads the bound a measurement was judged against, another
# field the context the step recorded beside it.
Needed = tuple[str, str, str]
PARTS: tuple[tuple[str, tuple[Needed, ...]], ...] = (
    ("failover rto {:.1f} s (model ≤ {:.1f} s)", (("failover", "rto_seconds", "observed"),
                                                  ("failover", "rto_vs_model_seconds", "threshold"))),
    ("failover rpo {:.0f} writes", (("failover", "rpo_writes", "observed"),)),
    ("switchover rpo {:.0f} writes ({:.0f} while paused)", (("switchover", "rpo_writes", "observed"),
                                                            ("switchover", "writes_while_paused", "observed"))),
    ("promotion errors {:.0f}", (("blue_green", "promotion_failed_requests", "observed"),)),
    ("rollback {:.1f} s", (("rollback", "rollback_seconds", "observed"),)),
    ("traffic failover {:.1f} s", (("traffic_failover", "failover_seconds", "observed"),)),
    ("failback {:.1f} s", (("traffic_failover", "failback_seconds", "observed"),)),
    ("game-day errors {:.0f} (budget {:g}%)", (("game_day", "error_budget_percent", "failed_requests"),
                                               ("game_day", "error_budget_percent", "observed"))),
    ("az loss errors {:.0f}", (("az_loss", "failed_beyond_window", "observed"),)),
    ("db restart recovery {:.1f} s", (("database_restart", "recovery_seconds", "observed"),)),
    ("cache outage p95 {:.0f} ms", (("cache_outage", "read_p95_ms", "observed"),)),
    ("stalled-replica rpo {:.0f} writes", (("stalled_replica", "rpo_writes", "observed"),)),
    ("restore {:.1f} s", (("restore", "restore_seconds", "observed"),)),
)
# Against AWS the failover drill has no lab model to be judged against: its RTO alone is shown.
AWS_PARTS = {"failover rto {:.1f} s (model ≤ {:.1f} s)": ("failover rto {:.1f} s",
                                                          (("failover", "rto_seconds", "observed"),))}


def _holds(measured: dict[str, object]) -> bool:
    """:raise ValueError, TypeError, KeyError: a measurement without numbers or a known comparison."""
    observed, threshold = float(measured["observed"]), float(measured["threshold"])  # type: ignore[arg-type]
    comparison = {"<=": observed <= threshold, ">=": observed >= threshold}
    return comparison[str(measured["comparison"])]


def skipped_on_purpose(features: Path, *, target: str, destructive: bool) -> set[str]:
    """Features that features/conftest.py skips for this target, by their feature-level tags: against AWS the
    ``@lab_only`` ones (ECS does their job) and, without --destructive, the ``@destructive`` ones. A feature that
    should have run but did not (an error in its setup) stays required, so its missing measurements show."""
    if target != "aws":
        return set()
    skipped = set()
    for path in sorted(features.glob("*.feature")):
        header = path.read_text().split("Feature:", 1)[0]
        tags = {word for line in header.splitlines() for word in line.split() if word.startswith("@")}
        if "@lab_only" in tags or ("@destructive" in tags and not destructive):
            skipped.add(path.stem)
    return skipped


def _parts(measured: list[dict[str, object]], parts_needed: list[tuple[str, tuple[Needed, ...]]],
           skipped: set[str]) -> tuple[list[str], list[str]]:
    """The line's parts, and the (feature.metric) measurements it needed but did not find."""
    parts, missing = [], []
    for label, needs in parts_needed:
        if any(feature in skipped for feature, _, _ in needs):
            continue
        values = []
        for feature, metric, field in needs:
            found = [float(m[field]) for m in measured  # type: ignore[arg-type]
                     if m["feature"] == feature and m["metric"] == metric and field in m]
            if found:
                values.append(max(found))
            else:
                missing.append(f"{feature}.{metric}")
        if len(values) == len(needs):
            parts.append(label.format(*values))
    return parts, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gates.drills", description=__doc__.split("\n\n")[0])
    parser.add_argument("measurements", nargs="?", type=Path, default=DEFAULT, help="default: %(default)s")
    parser.add_argument("--target", choices=["lab", "aws"], default="lab", help="where the drills ran")
    parser.add_argument("--destructive", action="store_true", help="with aws: the destructive drills ran too")
    options = parser.parse_args(argv)
    path = options.measurements
    skipped = skipped_on_purpose(FEATURES, target=options.target, destructive=options.destructive)
    parts_needed = [AWS_PARTS.get(label, (label, needs)) if options.target == "aws" else (label, needs)
                    for label, needs in PARTS]
    try:
        measured = json.loads(path.read_text())["measurements"]
        # The verdict is judged again here, not taken from the file: a record saying pass over its threshold fails.
        failed = [f"{m['feature']}.{m['metric']} {m['observed']} (threshold {m['comparison']} {m['threshold']})"
                  for m in measured if m.get("verdict") != "pass" or not _holds(m)]
        parts, missing = _parts(measured, parts_needed, skipped)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"drills: INCONCLUSIVE: {path}: {type(error).__name__}: {error}", file=sys.stderr)
        return Verdict.INCONCLUSIVE
    state = Verdict.of(failed=bool(failed), judged=not missing)
    detail = f" [failed: {'; '.join(failed)}]" if failed else ""
    detail += f" [not measured: {', '.join(missing)}]" if missing else ""
    # A passing line names only the measurements (the README quotes it); the others say their state first.
    shown = f"{', '.join(parts)}{detail}" if state is Verdict.PASS else f"{state.name}: {', '.join(parts)}{detail}"
    print(f"drills: {shown}")
    return state


if __name__ == "__main__":
    sys.exit(main())
