"""The latency-over-time chart (PNG) of a run, from Locust's stats history, with the SLO's p95 and p99 lines."""

from __future__ import annotations

import csv
from pathlib import Path

from policies.slo import ServiceLevelObjectives


def latency_chart(history_csv: Path, png: Path, slo: ServiceLevelObjectives) -> Path | None:
    """Writes ``png`` and returns it; None when the history has no aggregated rows (nothing to draw)."""
    if not history_csv.exists():
        return None
    rows = [r for r in csv.DictReader(history_csv.open(newline="")) if r.get("Name") == "Aggregated"]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    start = int(rows[0]["Timestamp"])
    seconds = [int(r["Timestamp"]) - start for r in rows]
    figure, axes = pyplot.subplots(figsize=(9, 4))
    for column in ("50%", "95%", "99%"):
        values = [float(r[column]) if r[column] not in ("", "N/A") else float("nan") for r in rows]
        axes.plot(seconds, values, label=f"p{column.rstrip('%')}")
    axes.axhline(slo.latency_p95_ms, linestyle="--", color="orange", label="p95 objective")
    axes.axhline(slo.latency_p99_ms, linestyle="--", color="red", label="p99 objective")
    axes.set_xlabel("seconds into the run")
    axes.set_ylabel("response time (ms)")
    axes.set_title("Latency over time (all requests)")
    axes.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(png, dpi=100)
    pyplot.close(figure)
    return png
