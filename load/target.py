"""The local service to load when no host is given: PostgreSQL and gunicorn on loopback, gone afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ops.gunicorn import ROOT, Gunicorn
from ops.postgres import temporary_postgres

DATABASE = "records"
PASSWORD = "records-load"  # a throwaway cluster on loopback, removed after the run  # nosec B105


@contextmanager
def local_service(
    log_dir: Path, *, flags_file: Path | None = None, workers: int = 2, threads: int = 4
) -> Iterator[str]:
    """Yields the service's URL. ``flags_file``: service flags (latency or read-only injection for tests)."""
    with temporary_postgres("records-load-pg-") as server:
        url = server.create_database(DATABASE, PASSWORD)
        env = {"DATABASE_URL": url, "DB_SSLMODE": "disable", "WEB_CONCURRENCY": str(workers),
               "GUNICORN_THREADS": str(threads), "LOG_LEVEL": "WARNING"}
        if flags_file is not None:
            env |= {"FLAGS_FILE": str(flags_file), "FLAGS_TTL_S": "1"}
        subprocess.run([sys.executable, "-m", "service", "migrate"], env={**os.environ, **env},
                       cwd=ROOT, check=True, capture_output=True, timeout=60)
        gunicorn = Gunicorn(env, log_dir / "gunicorn.log").start()
        try:
            yield gunicorn.url
        finally:
            gunicorn.stop()
