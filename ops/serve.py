"""``make serve``: a local PostgreSQL in ./.pg (git-ignored) and the service under gunicorn on 127.0.0.1.

    python -m ops.serve            Ctrl-C stops gunicorn, then PostgreSQL
Environment: PG_PORT (54329), PG_DATA_ROOT (./.pg), PORT (8080), and any service setting (CACHE_URL, FLAGS_FILE...).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from ops.postgres import LocalPostgres

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "records"
DEV_PASSWORD = "records-local"  # a throwaway local cluster on loopback, never a deployed credential  # nosec B105


def main() -> int:
    root = Path(os.environ.get("PG_DATA_ROOT", ROOT / ".pg"))
    server = LocalPostgres(root=root, port=int(os.environ.get("PG_PORT", "54329"))).init()
    if not server.running:
        server.start()
    try:
        try:
            url = server.create_database(DATABASE, DEV_PASSWORD)
        except psycopg.errors.DuplicateObject:
            url = server.url(user=DATABASE, password=DEV_PASSWORD, database=DATABASE)
        env = {**os.environ, "DATABASE_URL": url, "DB_SSLMODE": "disable", "BIND_HOST": "127.0.0.1",
               "PORT": os.environ.get("PORT", "8080")}
        subprocess.run([sys.executable, "-m", "service", "migrate"], env=env, cwd=ROOT, check=True)
        print(f"serve: http://127.0.0.1:{env['PORT']} (database {url.rsplit('@', 1)[1]}); Ctrl-C to stop")
        gunicorn = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "service/gunicorn.conf.py",
                                     "service.wsgi:app"], env=env, cwd=ROOT)
        try:
            return gunicorn.wait()
        except KeyboardInterrupt:
            gunicorn.terminate()
            return gunicorn.wait(timeout=30)
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
