"""PostgreSQL primary (us-east-1) streaming to a standby (us-east-2), from Debian's server binaries: the stand-in
for RDS and its cross-region read replica; ``LocalPostgres.promote`` on the standby is what
``rds.promote_read_replica`` does."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ops.postgres import PG_BIN, LocalPostgres, PostgresError, _as_server_user, _chown, free_port, server_dir


@dataclass
class ReplicatedPostgres:
    primary: LocalPostgres
    standby: LocalPostgres

    @classmethod
    def allocate(cls) -> ReplicatedPostgres:
        """Folders and ports for both servers, nothing started: clients can be configured before they run."""
        return cls(primary=LocalPostgres(root=server_dir("records-lab-use1-"), port=free_port()),
                   standby=LocalPostgres(root=server_dir("records-lab-use2-"), port=free_port()))

    @property
    def archive(self) -> Path:
        """Where the primary archives its WAL segments: with a base backup, what a point-in-time restore replays
        (RDS's automated backups and transaction logs)."""
        return self.primary.root / "archive"

    def start_primary(self, prepare: Callable[[LocalPostgres], None]) -> None:
        """A started primary, archiving its WAL, ``prepare``d (database, schema).

        :raise PostgresError: initdb or start failed.
        """
        self.primary.init()
        self.archive.mkdir()
        _chown(self.archive)
        # Never overwrite a segment already archived: a second writer on the same archive is a split brain.
        self.primary.configure({"archive_mode": "on",
                                "archive_command": f"test ! -f {self.archive}/%f && cp %p {self.archive}/%f"})
        self.primary.start()
        prepare(self.primary)

    def start_standby(self) -> None:
        """The standby cloned from the primary with pg_basebackup, streaming.

        :raise PostgresError: the base backup or the start failed; the message carries their stderr.
        """
        self._clone(self.primary, self.standby)

    def remove(self) -> None:
        """Stop whatever runs and delete both servers' folders (after a start that failed part-way)."""
        for server in (self.standby, self.primary):
            try:
                server.stop()
            except PostgresError:  # already stopped by a drill that failed a region; the folder goes anyway
                pass
            shutil.rmtree(server.root, ignore_errors=True)

    @staticmethod
    def _clone(primary: LocalPostgres, standby: LocalPostgres) -> None:
        standby.root.mkdir(parents=True, exist_ok=True)
        _chown(standby.root)
        base_backup(primary, standby.data_dir, standby_config=True)
        # The copy carries the primary's archive_command; promoted, it would write into the old primary's archive.
        standby.configure({"archive_mode": "off"})
        standby.start()


def base_backup(source: LocalPostgres, target: Path, *, standby_config: bool = False) -> None:
    """A consistent copy of ``source``'s cluster in ``target`` with the WAL it needs (pg_basebackup, streamed);
    ``standby_config`` also writes the settings that make a copy follow its source.

    :raise PostgresError: the base backup failed; the message carries its stderr.
    """
    command = _as_server_user([
        str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(source.port), "-U", "postgres",
        "-D", str(target), "-X", "stream", "--checkpoint=fast", "--no-sync", *(["-R"] if standby_config else []),
    ])
    done = subprocess.run(command, env={**os.environ, "PGPASSWORD": source.password}, capture_output=True,
                          text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise PostgresError(f"pg_basebackup failed ({done.returncode}): {done.stderr.strip()[-400:]}")


def copy_cluster(source: Path, target: Path) -> None:
    """A copy of a stopped cluster's (or a base backup's) files, owned by the server user as PostgreSQL requires.

    :raise PostgresError: the copy failed.
    """
    done = subprocess.run(_as_server_user(["cp", "-a", str(source), str(target)]), capture_output=True, text=True,
                          timeout=120, check=False)
    if done.returncode != 0:
        raise PostgresError(f"copying {source} failed: {done.stderr.strip()[-400:]}")
