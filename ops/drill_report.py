"""The drills' one-line summary, from features/out/measurements.json (written by `pytest features/`).

    python -m ops.drill_report [features/out/measurements.json]

Exit 0 every measurement met its threshold; 1 one did not; 2 a measurement the summary needs is missing.
"""

from __future__ import annotations

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
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT
    try:
        measured = json.loads(path.read_text())["measurements"]
        rows = [(m["feature"], m["metric"], float(m["observed"]), m.get("verdict")) for m in measured]
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"drills: INCONCLUSIVE: {path}: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    parts, missing = [], []
    for (feature, metric), label in NEEDED.items():
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
