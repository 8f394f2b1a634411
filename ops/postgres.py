"""A throwaway PostgreSQL cluster on 127.0.0.1, from Debian's server binaries (initdb, pg_ctl).

PostgreSQL refuses to run as root; when this process is root the binaries run as the ``postgres`` user.
Why not pytest-postgresql: tests also stop and restart the same cluster to simulate an outage, and
``make serve`` and the lab need the same start/stop outside pytest.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from ops.system_deps import postgres_bin

PG_BIN = postgres_bin()
SERVICE_USER = "postgres"


# Listening ports come from below the kernel's ephemeral range: a port the kernel hands out for bind(0) is also
# what it hands to outbound connections, and one of those (a test's HTTP or database client) took a lab database's
# port between allocation and pg_ctl start. Random choice keeps parallel test workers apart.
LISTEN_PORTS = range(20000, 32000)


def free_port() -> int:
    """A loopback port nothing listens on now, outside the range outbound connections draw from."""
    for port in random.sample(LISTEN_PORTS, 64):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError(f"no free port in {LISTEN_PORTS.start}-{LISTEN_PORTS.stop - 1} on 127.0.0.1 after 64 tries")


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", SERVICE_USER, "--", *args] if os.geteuid() == 0 else args


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, SERVICE_USER, SERVICE_USER)


class PostgresError(RuntimeError):
    """initdb or pg_ctl failed; the message carries their stderr."""


@contextmanager
def temporary_postgres(prefix: str = "records-pg-") -> Iterator[LocalPostgres]:
    """A started cluster on a free port in a fresh folder; stopped and removed afterwards."""
    root = server_dir(prefix)
    server = LocalPostgres(root=root, port=free_port()).init().start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def server_dir(prefix: str = "records-pg-") -> Path:
    """A fresh folder the server user can reach (pytest's own temp root is private to root)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@dataclass
class LocalPostgres:
    root: Path
    port: int
    password: str = "local-superuser"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str) -> None:
        """:raise PostgresError: the tool failed; the message carries its stderr and the server log's end."""
        done = subprocess.run(_as_server_user(list(args)), capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace").strip()[-400:] if log.exists() else ""
            raise PostgresError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()[-400:]}"
                                + (f"; server log: {tail}" if tail else ""))

    def init(self) -> LocalPostgres:
        """Create the cluster (superuser ``postgres``, password auth) unless it exists."""
        if (self.data_dir / "PG_VERSION").exists():
            return self
        self.root.mkdir(parents=True, exist_ok=True)
        _chown(self.root)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password)
        _chown(pwfile)
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data_dir), "--auth=scram-sha-256", "-U", "postgres",
                  f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync")
        pwfile.unlink()
        return self

    def configure(self, settings: dict[str, str]) -> LocalPostgres:
        """Append server settings to the cluster's postgresql.conf (read at the next start); values are quoted."""
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            for key, value in settings.items():
                quoted = value.replace("'", "''")
                conf.write(f"{key} = '{quoted}'\n")
        return self

    def start(self) -> LocalPostgres:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.root / "server.log"),
                  "-o", options, "-w", "-t", "30", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """``mode`` "immediate" is a crash (the lab's lost region); "fast" a clean shutdown."""
        if self.running:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def promote(self) -> None:
        """A standby becomes writable on its own timeline and stops following its primary."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-w", "-t", "30", "promote")

    @property
    def running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()

    def url(self, user: str = "postgres", password: str | None = None, database: str = "postgres") -> str:
        return f"postgresql://{user}:{password or self.password}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        with psycopg.connect(self.url(database=database), autocommit=True) as conn:
            conn.execute(sql)

    def query(self, sql: str, params: tuple[Any, ...] = (), database: str = "postgres") -> list[tuple[Any, ...]]:
        """The rows of one statement, as the superuser, in its own autocommitted transaction; a server that does
        not answer within 2 s is an error, not a hang. :raise psycopg.Error: connection or statement failed."""
        with psycopg.connect(self.url(database=database), autocommit=True, connect_timeout=2) as conn:
            return conn.execute(sql, params).fetchall()

    def create_database(self, name: str, owner_password: str) -> str:
        """A database and a login role of the same name; returns its URL."""
        self.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{owner_password}'")
        self.execute(f"CREATE DATABASE {name} OWNER {name}")
        return self.url(user=name, password=owner_password, database=name)
