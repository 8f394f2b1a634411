"""Run the service under real gunicorn on 127.0.0.1: for tests, benchmarks and the local load gate."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from ops.postgres import free_port

ROOT = Path(__file__).resolve().parents[1]


def stop_process(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM, so it can finish cleanly (gunicorn drains, Locust writes its statistics); SIGKILL after
    ``timeout_s``. Nothing is done to a process that already exited."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_ok(url: str, timeout_s: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url`` until it answers 200. :raise RuntimeError: the process exited or time ran out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still booting
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer 200 within {timeout_s} s")


class Gunicorn:
    def __init__(self, env: dict[str, str], log_path: Path, app: str = "service.wsgi:app") -> None:
        self.port = free_port()
        self.log_path = log_path
        self.env = {
            **os.environ,
            "BIND_HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "4",
            "DB_SSLMODE": "disable",
            "APP_ENV": "test",
            **env,
        }
        self.app = app
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """:raise RuntimeError: not launched yet."""
        if self.process is None:
            raise RuntimeError("gunicorn was not launched")
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30) -> Gunicorn:
        """Launch and wait until it answers. :raise RuntimeError: it exited or did not answer (log attached)."""
        return self.launch().wait_ready(timeout_s)

    def launch(self) -> Gunicorn:
        """Start the process without waiting: several servers boot side by side (the lab starts four)."""
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "service" / "gunicorn.conf.py"), self.app],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        return self

    def wait_ready(self, timeout_s: float = 30) -> Gunicorn:
        """:raise RuntimeError: the server exited or did not answer /health in time; it is stopped first."""
        try:
            wait_until_ok(f"{self.url}/health", timeout_s, self.process)
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}; gunicorn log: {self.log_path.read_text()[-2000:]}") from None
        return self

    def stop(self) -> int | None:
        if self.process:
            stop_process(self.process, timeout_s=30)
        return self.process.returncode if self.process else None
