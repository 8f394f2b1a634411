"""The charts count every status the tables count."""

from __future__ import annotations

from collections import Counter

import pytest

from reports.render.charts import STATUS_COLOURS, stacked_bars, target_bars
from reports.render.html import CONTROL_STATUSES


def test_every_control_status_has_a_colour():
    assert set(CONTROL_STATUSES) <= set(STATUS_COLOURS)


def test_a_status_without_a_colour_is_refused_not_dropped(tmp_path):
    with pytest.raises(ValueError, match=r"Controls: no colour for statuses \['signed-off'\]"):
        stacked_bars({"SOC 2": Counter({"pass": 1, "signed-off": 3})}, "Controls", tmp_path / "c.png")
    assert not (tmp_path / "c.png").exists()


def _pixels_of(path, colour: str) -> int:
    from PIL import Image

    wanted = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    with Image.open(path) as image:
        return sum(count for count, rgb in image.convert("RGB").getcolors(maxcolors=1 << 20) if rgb == wanted)


def test_needs_attestation_is_drawn_in_proportion(tmp_path):
    path = stacked_bars({"SOC 2": Counter({"needs-attestation": 37, "not-collected": 1})}, "Controls",
                        tmp_path / "c.png")
    needs, missing = (_pixels_of(path, STATUS_COLOURS[s]) for s in ("needs-attestation", "not-collected"))
    assert missing > 0 and needs > 20 * missing  # 37 to 1, less the legend's equal swatches


def test_a_missed_kpi_is_drawn_past_its_target_in_the_fail_colour(tmp_path):
    path = target_bars({"prod change failure rate": (40.0, 15.0, "<=", "fail"),
                        "prod lead time": (5.6, 24.0, "<=", "pass")}, "Delivery", tmp_path / "d.png")
    failed, passed = (_pixels_of(path, STATUS_COLOURS[s]) for s in ("fail", "pass"))
    assert failed > 5 * passed > 0  # 267 % of its target against 23 %
