"""Pictures that read faster than tables: control status per framework, record status per source, the recovery
budget, delivery KPIs against their targets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on CI machines
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

STATUS_COLOURS = {
    "pass": "#2e7d32", "acknowledged": "#f9a825", "fail": "#c62828",
    "inconclusive": "#6a1b9a", "not-collected": "#9e9e9e", "not-applicable": "#cfd8dc", "stale": "#e65100",
    "needs-attestation": "#0277bd", "gap": "#424242",
}


def stacked_bars(counts: Mapping[str, Counter[str]], title: str, path: Path) -> Path:
    """One horizontal bar per row, split by status, in a fixed status order and colour.

    :raise ValueError: a status without a colour (a chart that silently dropped it would under-count).
    """
    uncoloured = sorted({status for row in counts.values() for status in row} - set(STATUS_COLOURS))
    if uncoloured:
        raise ValueError(f"{title}: no colour for statuses {uncoloured}")
    rows = list(counts)
    figure, axes = plt.subplots(figsize=(8, 0.5 + 0.45 * max(1, len(rows))), dpi=110)
    left = [0] * len(rows)
    for status, colour in STATUS_COLOURS.items():
        widths = [counts[row].get(status, 0) for row in rows]
        if any(widths):
            axes.barh(rows, widths, left=left, color=colour, label=status)
            left = [a + b for a, b in zip(left, widths, strict=True)]
    return _save(figure, axes, title, path)


def budget_bars(budgets: Mapping[str, tuple[list[tuple[str, float]], float]], title: str, path: Path) -> Path:
    """One horizontal bar per environment: the recovery path's terms end to end (seconds), and a mark at the
    objective, so the slack (or the overrun) reads at a glance.

    ``budgets``: environment -> ([(term, seconds), ...] along the path, objective seconds).
    """
    rows = list(budgets)
    figure, axes = plt.subplots(figsize=(8, 0.8 + 0.5 * max(1, len(rows))), dpi=110)
    palette = plt.get_cmap("tab10")
    colours: dict[str, object] = {}  # one colour per term across environments; the legend names each once
    for row_number, row in enumerate(rows):
        terms, objective = budgets[row]
        left = 0.0
        for name, seconds in terms:
            first = name not in colours
            colour = colours.setdefault(name, palette(len(colours) % 10))
            axes.barh(row_number, seconds, left=left, color=colour, label=name if first else None)
            left += seconds
        axes.plot([objective, objective], [row_number - 0.45, row_number + 0.45], color="#c62828", linewidth=2)
    axes.set_yticks(range(len(rows)), rows)
    axes.set_xlabel("seconds (red mark: the objective)")
    return _save(figure, axes, title, path)


def target_bars(rows: Mapping[str, tuple[float, float, str, str]], title: str, path: Path) -> Path:
    """One bar per KPI: its observed value as a share of its target (the red line is the target), coloured by
    verdict. A ">=" KPI (frequency) passes right of the line, a "<=" one left of it.

    ``rows``: label -> (observed, target, comparison, status).
    """
    figure, axes = plt.subplots(figsize=(8, 0.8 + 0.5 * max(1, len(rows))), dpi=110)
    for row_number, (observed, target, comparison, status) in enumerate(rows.values()):
        share = 100 * observed / target if target else 0.0
        axes.barh(row_number, share, color=STATUS_COLOURS[status],
                  label=f"{status} ({comparison} target)" if row_number == 0 else None)
    axes.axvline(100, color="#c62828", linewidth=2)
    axes.set_yticks(range(len(rows)), list(rows))
    axes.set_xlabel("observed, % of target (red line: the target)")
    return _save(figure, axes, title, path)


def _save(figure: Figure, axes: Axes, title: str, path: Path) -> Path:
    """Rows top to bottom in the order given, the legend outside on the right, written to ``path`` and closed."""
    axes.set_title(title)
    axes.invert_yaxis()
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
