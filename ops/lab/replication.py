"""PostgreSQL primary (us-east-1) streaming to a standby (us-east-2), from Debian's server binaries: the stand-in
for RDS and its cross-region read replica; ``LocalPostgres.promote`` on the standby is what
``rds.promote_read_replica`` does."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from ops.postgres import PG_BIN, LocalPostgres, PostgresError, _as_server_user, _chown, free_port, server_dir


@dataclass
class ReplicatedPostgres:
    primary: LocalPostgres
    standby: LocalPostgres

    @classmethod
    def create(cls, prepare: Callable[[LocalPostgres], None]) -> ReplicatedPostgres:
        """A started primary, ``prepare``d (database, schema), and a standby cloned from it with pg_basebackup,
        streaming.

        :raise PostgresError: a server or the base backup failed; the message carries their stderr.
        """
        primary = LocalPostgres(root=server_dir("records-lab-use1-"), port=free_port())
        standby = LocalPostgres(root=server_dir("records-lab-use2-"), port=free_port())
        try:
            primary.init().start()
            prepare(primary)
            cls._clone(primary, standby)
        except BaseException:
            for server in (standby, primary):
                if server.running:
                    server.stop()
                shutil.rmtree(server.root, ignore_errors=True)
            raise
        return cls(primary=primary, standby=standby)

    @staticmethod
    def _clone(primary: LocalPostgres, standby: LocalPostgres) -> None:
        standby.root.mkdir(parents=True, exist_ok=True)
        _chown(standby.root)
        command = _as_server_user([
            str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(standby.data_dir), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
        ])
        done = subprocess.run(command, env={**os.environ, "PGPASSWORD": primary.password}, capture_output=True,
                              text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise PostgresError(f"pg_basebackup failed ({done.returncode}): {done.stderr.strip()[-400:]}")
        standby.start()

    def stop(self) -> None:
        for server in (self.standby, self.primary):
            try:
                server.stop()
            except PostgresError:  # already stopped by a drill that failed a region; keep tearing down
                continue
