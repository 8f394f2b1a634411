"""A throwaway redis-server on 127.0.0.1 from Debian's package: the cache tests' and the lab's stand-in for
ElastiCache (Valkey speaks the same protocol). Nothing is persisted."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from ops.postgres import free_port

REDIS = shutil.which("redis-server")


class RedisError(RuntimeError):
    """redis-server is missing, exited, or did not answer PING in time."""


@dataclass
class LocalRedis:
    port: int = 0
    password: str | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self, log: Path | None = None, *, detached: bool = False, timeout_s: float = 10) -> LocalRedis:
        """Started and answering. ``detached``: in a session of its own, as the lab's servers, so that a
        Ctrl-C in the shell that built the lab does not stop it. :raise RedisError: see the class."""
        if REDIS is None:
            raise RedisError("redis-server is not installed; install Debian's redis-server package")
        self.port = self.port or free_port()
        auth = ["--requirepass", self.password] if self.password else []
        output = log.open("ab") if log else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *auth],
                stdout=output, stderr=subprocess.STDOUT, start_new_session=detached)
        finally:
            if log:
                output.close()  # type: ignore[union-attr]
        client = redis.Redis(port=self.port, password=self.password, socket_timeout=1)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                # Its own answer, not one from another server already on the port (this one then exits).
                if int(client.info("server")["process_id"]) == self.process.pid:
                    return self
            except redis.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RedisError(f"redis-server on port {self.port} did not answer within {timeout_s:g} s")

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
