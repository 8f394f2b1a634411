"""Open the report in headless Chromium (Debian's package, driven by Playwright; never a downloaded
browser), collect console errors, check the control matrix rendered, and save a screenshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking switches Chromium keeps dialling Google's hosts, which this offline
# machine refuses; --no-sandbox because CI runs as root.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


class BrowserUnavailable(RuntimeError):
    """No Chromium at the expected path, or Playwright could not start it."""


@dataclass(frozen=True)
class Rendering:
    console_errors: list[str] = field(default_factory=list)
    matrix_rows: int = 0
    verdict: str = ""
    shown: tuple[str, ...] = ()  # the ids of SECTIONS the browser rendered visibly, with content


# What an auditor must see besides the matrix: what the statuses mean, what was evaluated, who attested.
SECTIONS = ("legend-table", "population-table", "attestation-table")


def capture(html: Path, png: Path, *, chromium: Path = CHROMIUM) -> Rendering:
    """:raise BrowserUnavailable: Chromium is not installed or did not start."""
    if not chromium.exists():
        raise BrowserUnavailable(f"{chromium} not found; install Debian's chromium package")
    from playwright.sync_api import Error, sync_playwright

    errors: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium), args=FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.goto(html.resolve().as_uri(), wait_until="load")
                rows = page.locator("table.control-matrix tr").count()
                verdict = page.locator("#verdict").inner_text()
                shown = tuple(section for section in SECTIONS if page.locator(f"#{section}").is_visible()
                              and page.locator(f"#{section} tr").count() > 1)
                page.screenshot(path=str(png))
            finally:
                browser.close()
    except Error as error:
        raise BrowserUnavailable(f"chromium via Playwright: {error.message.splitlines()[0]}") from None
    return Rendering(console_errors=errors, matrix_rows=rows, verdict=verdict, shown=shown)
