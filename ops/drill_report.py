"""The drills' one-line summary, from features/out/measurements.json (written by `pytest features/`).

    python -m ops.drill_report [features/out/measurements.json] [--cucumber features/out/cucumber.json]

Every feature that ran (per the cucumber report beside the measurements) must have its measurements; a
feature skipped on purpose (a destructive drill against AWS) is not required.

Exit 0 every measurement met its threshold; 1 one did not; 2 a measurement the summary needs is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1] / "features" / "out" / "measurements.json"
# (feature, metric) -> how the summary line names it; max over scenarios (the worst case is the one to report).
NEEDED = {
    ("failover", "rto_seconds"): "failover rto {:.1f} s",
    ("failover", "rpo_writes"): "failover rpo {:.0f} writes",
    ("switchover", "rpo_writes"): "switchover rpo {:.0f} writes",
    ("blue_green", "promotion_failed_requests"): "promotion errors {:.0f}",
    ("rollback", "rollback_seconds"): "rollback {:.1f} s",
    ("traffic_failover", "failover_seconds"): "traffic failover {:.1f} s",
    ("traffic_failover", "failback_seconds"): "failback {:.1f} s",
}


def features_run(cucumber: Path) -> set[str] | None:
    """Features with at least one step that ran, from pytest-bdd's cucumber report (a feature skipped on
    purpose, such as a destructive drill against AWS, has none). None when there is no report to read."""
    try:
        features = json.loads(cucumber.read_text())
    except (OSError, ValueError):
        return None
    return {
        Path(feature["uri"]).stem
        for feature in features
        for scenario in feature.get("elements", [])
        if any(step.get("result", {}).get("status") in ("passed", "failed") for step in scenario.get("steps", []))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.drill_report", description=__doc__.split("\n\n")[0])
    parser.add_argument("measurements", nargs="?", type=Path, default=DEFAULT, help="default: %(default)s")
    parser.add_argument("--cucumber", type=Path, help="which features ran (default: cucumber.json beside the "
                                                      "measurements; without it every feature is required)")
    options = parser.parse_args(argv)
    path = options.measurements
    ran = features_run(options.cucumber or path.with_name("cucumber.json"))
    if ran is not None and not ran:
        print("drills: INCONCLUSIVE: no drill ran (every scenario was skipped)", file=sys.stderr)
        return 2
    needed = {key: label for key, label in NEEDED.items() if ran is None or key[0] in ran}
    try:
        measured = json.loads(path.read_text())["measurements"]
        rows = [(m["feature"], m["metric"], float(m["observed"]), m.get("verdict")) for m in measured]
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"drills: INCONCLUSIVE: {path}: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    parts, missing = [], []
    for (feature, metric), label in needed.items():
        values = [observed for f, m, observed, _ in rows if f == feature and m == metric]
        if values:
            parts.append(label.format(max(values)))
        else:
            missing.append(f"{feature}.{metric}")
    failed = [f"{m['feature']}.{m['metric']} {m['observed']} (threshold {m['comparison']} {m['threshold']})"
              for m in measured if m.get("verdict") != "pass"]
    state = "FAIL" if failed else ("INCONCLUSIVE" if missing else "PASS")
    detail = f" [failed: {'; '.join(failed)}]" if failed else ""
    detail += f" [not measured: {', '.join(missing)}]" if missing else ""
    print(f"drills: {', '.join(parts)}{detail}" if state == "PASS" else f"drills: {state}: {', '.join(parts)}{detail}")
    return {"PASS": 0, "FAIL": 1, "INCONCLUSIVE": 2}[state]


if __name__ == "__main__":
    sys.exit(main())
