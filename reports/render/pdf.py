"""``evidence.pdf``: the print rendering of the report, laid out by WeasyPrint (A4 landscape).

WeasyPrint's table layout is the slowest step of the bundle (about 3 s here), so ``start`` runs it in a
forked process while the other outputs are written, and WeasyPrint is imported only there.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path


def write(page: str, base: Path, path: Path) -> Path:
    """``page`` is the print rendering of the report; ``base`` the folder its charts are in."""
    import logging

    from weasyprint import HTML

    # WeasyPrint logs every CSS property it ignores; the page is ours and those are not actionable.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    HTML(string=page, base_url=str(base)).write_pdf(str(path))
    return path


def start(page: str, base: Path, path: Path) -> tuple[ProcessPoolExecutor, Future[Path]]:
    """Begin ``write`` in another process; the caller waits on the future and shuts the pool down."""
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    return pool, pool.submit(write, page, base, path)
