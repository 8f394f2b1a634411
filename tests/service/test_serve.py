"""`make serve`: a local PostgreSQL and the service come up together, and Ctrl-C takes both down."""

from __future__ import annotations

import os
import shutil
import signal
import sys

import requests

from ops.gunicorn import wait_until_ok
from ops.postgres import LocalPostgres, free_port, server_dir


def test_serve_starts_database_and_service_and_stops_both(gunicorn, tmp_path):
    data_root = server_dir("records-serve-")
    port = free_port()
    env = {**os.environ, "PG_DATA_ROOT": str(data_root), "PG_PORT": str(free_port()), "PORT": str(port),
           "WEB_CONCURRENCY": "1"}
    process = gunicorn.popen([sys.executable, "-m", "ops.serve"], tmp_path / "serve.log", env)
    try:
        wait_until_ok(f"http://127.0.0.1:{port}/ready", 60, process)
        created = requests.post(f"http://127.0.0.1:{port}/api/records",
                                json={"subject": "s", "kind": "note", "body": "served"}, timeout=5)
        assert created.status_code == 201
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert not (data_root / "data" / "postmaster.pid").exists()
        # No shared control socket: concurrent gunicorns (the lab's, the tests') would unlink each other's.
        assert "Control socket" not in (tmp_path / "serve.log").read_text()
    finally:
        # On any failure: gunicorn dies with the process group, even when ops.serve itself already exited;
        # pg_ctl detached PostgreSQL into a session of its own, so it is stopped by its data directory.
        gunicorn.kill(process)
        LocalPostgres(root=data_root, port=0).stop(mode="immediate")
        shutil.rmtree(data_root, ignore_errors=True)
