"""``evidence.pdf``: the print rendering of the report, laid out by WeasyPrint (A4 landscape), and the charts
both pages show.

WeasyPrint's import and table layout are the slowest steps of the bundle (about 3 s here), so ``start`` runs
charts and PDF in a forked child while the parent writes the other outputs; WeasyPrint is imported only there.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path

from reports.evidence import Evidence
from reports.render.html import write_charts


class PrintFailed(RuntimeError):
    """The child that draws the charts and prints the PDF did not finish."""


def write(page: str, base: Path, path: Path) -> Path:
    """``page`` is the print rendering of the report; ``base`` the folder its charts are in."""
    import logging

    from weasyprint import HTML

    # WeasyPrint logs every CSS property it ignores; the page is ours and those are not actionable.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    HTML(string=page, base_url=str(base)).write_pdf(str(path))
    return path


def _charts_then_pdf(evidence: Evidence, page: str, out: Path, path: Path) -> None:
    write_charts(evidence, out)
    write(page, out, path)


@dataclass(frozen=True)
class Printing:
    process: BaseProcess

    def wait(self, timeout_s: float = 120) -> None:
        """:raise PrintFailed: the child exited with an error (its traceback is on stderr) or hung."""
        self.process.join(timeout_s)
        if self.process.is_alive():
            self.cancel()
            raise PrintFailed(f"charts and PDF: the printing process did not finish within {timeout_s} s")
        if self.process.exitcode != 0:
            raise PrintFailed(f"charts and PDF: the printing process exited {self.process.exitcode}")

    def cancel(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(10)


def start(evidence: Evidence, page: str, out: Path, path: Path) -> Printing:
    """Charts into ``out``, then the PDF at ``path``, in a forked child (which inherits ``evidence`` without
    pickling it); ``wait`` before reading either."""
    process = multiprocessing.get_context("fork").Process(target=_charts_then_pdf, args=(evidence, page, out, path))
    process.start()
    return Printing(process)
