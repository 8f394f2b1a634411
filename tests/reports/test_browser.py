"""The report as an auditor sees it: Debian's Chromium, driven by Playwright."""

from __future__ import annotations

import datetime as dt

from reports.__main__ import generate
from reports.render.screenshot import capture


def test_the_report_renders_without_console_errors_and_shows_the_control_matrix(chromium, gates, tmp_path, capsys):
    gates.all_static()
    out = tmp_path / "out"
    code = generate(gates.inputs, out, required=["nag"], take_screenshot=True,
                    now=dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    assert code == 0, capsys.readouterr().err
    rendering = capture(out / "index.html", tmp_path / "again.png", chromium=chromium)
    assert rendering.console_errors == []
    assert rendering.matrix_rows > 100  # every catalog's controls
    assert rendering.shown == ("legend-table", "population-table", "attestation-table")
    assert rendering.verdict.startswith("PASS")
    # `make evidence` keeps the same screenshot in reports/out/, inside the hashed bundle.
    assert (out / "index.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "index.png" in (out / "MANIFEST.sha256").read_text()


def test_a_page_with_a_script_error_is_caught(chromium, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<html><body><table class="control-matrix"><tr><td>x</td></tr></table>'
                    '<span id="verdict">PASS</span><script>console.error("boom"); missing();</script></body></html>')
    rendering = capture(page, tmp_path / "broken.png", chromium=chromium)
    assert "boom" in rendering.console_errors
    assert any("missing" in error for error in rendering.console_errors)
