"""HAProxy from Debian's package, as the lab's load balancers; weights and server states change at run time
through its admin socket (the runtime API), as ECS shifts traffic between target groups."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ops.system_deps import HAPROXY_SBIN

HAPROXY = shutil.which("haproxy") or HAPROXY_SBIN
# Health checks every 500 ms, down after 3 failures, up after 2 successes: a failover shows within ~2 s, and
# a slow answer on a busy 2-core machine is not taken for an outage.
CHECK_INTERVAL_MS, CHECK_FALL, CHECK_RISE = 500, 3, 2
CHECK = f"check inter {CHECK_INTERVAL_MS}ms fall {CHECK_FALL} rise {CHECK_RISE}"
# How long the checks take to notice a region went away (or came back).
DETECTION_S = CHECK_INTERVAL_MS * max(CHECK_FALL, CHECK_RISE) / 1000
# The worst case of noticing a loss: the check in flight when it happened counts as one more interval (the lab's
# budget model, ops/lab/budget.py, and the window the AZ-loss drill allows for failed requests).
LOSS_DETECTED_S = CHECK_INTERVAL_MS * (CHECK_FALL + 1) / 1000


class HaproxyError(RuntimeError):
    """HAProxy is missing, rejected its configuration, or its admin socket did not answer."""


@dataclass(frozen=True)
class Server:
    name: str
    port: int
    weight: int = 100
    backup: bool = False


def render(name: str, port: int, socket_path: Path, servers: list[Server]) -> str:
    """A one-frontend, one-backend configuration with HTTP health checks on /health."""
    lines = [
        "global",
        f"    stats socket {socket_path} mode 600 level admin",
        "    log stderr format raw local0 warning",
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        "    timeout client 10s",
        "    timeout server 10s",
        "    timeout check 2s",
        "    option redispatch",
        "    retries 2",
        f"frontend {name}",
        f"    bind 127.0.0.1:{port}",
        f"    default_backend {name}_servers",
        f"backend {name}_servers",
        "    balance roundrobin",
        "    option httpchk GET /health",
        "    http-check expect status 200",
    ]
    for server in servers:
        role = " backup" if server.backup else ""
        lines.append(f"    server {server.name} 127.0.0.1:{server.port} weight {server.weight} {CHECK}{role}")
    return "\n".join(lines) + "\n"


@dataclass
class Haproxy:
    name: str
    port: int
    directory: Path
    servers: list[Server]
    pid: int | None = None

    @property
    def socket_path(self) -> Path:
        return self.directory / f"{self.name}.sock"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10) -> Haproxy:
        """Started, with its runtime API answering (weights can be set right away).

        :raise HaproxyError: the binary is missing, the configuration is refused, or it exited or did not answer
            within ``timeout_s``.
        """
        if not Path(HAPROXY).exists():
            raise HaproxyError(f"{HAPROXY} not found; install Debian's haproxy package")
        config = self.directory / f"{self.name}.cfg"
        config.write_text(render(self.name, self.port, self.socket_path, self.servers))
        checked = subprocess.run([HAPROXY, "-c", "-q", "-f", str(config)], capture_output=True, text=True, check=False)
        if checked.returncode != 0:
            raise HaproxyError(f"{config}: {checked.stderr.strip()[-400:]}")
        with (self.directory / f"{self.name}.log").open("ab") as log:
            # A session of its own: the lab outlives `python -m ops.lab up`, and Ctrl-C there must not stop it.
            process = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.pid = process.pid
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.command("show info")
                return self
            except HaproxyError as error:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    process.wait(timeout=5)
                    raise HaproxyError(f"{self.name} did not come up ({error}); see "
                                       f"{self.directory / (self.name + '.log')}") from None
            time.sleep(0.02)

    def command(self, line: str) -> str:
        """One runtime API command. :raise HaproxyError: the socket is gone or refused the command."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(2)
                connection.connect(str(self.socket_path))
                connection.sendall(line.encode() + b"\n")
                chunks = []
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
        except OSError as error:
            raise HaproxyError(f"{self.name}: runtime API {line!r}: {error}") from None
        answer = b"".join(chunks).decode().strip()
        if answer.lower().startswith(("unknown", "no such")):
            raise HaproxyError(f"{self.name}: runtime API {line!r}: {answer}")
        return answer

    def set_weight(self, server: str, weight: int) -> None:
        self.command(f"set server {self.name}_servers/{server} weight {weight}")

    def server_states(self) -> Mapping[str, str]:
        """Server name -> UP / DOWN / MAINT, as the health checks see it."""
        answer = self.command(f"show stat {self.name}_servers 4 -1")
        states = {}
        for row in answer.splitlines():
            fields = row.split(",")
            if row.startswith("#") or len(fields) < 18 or fields[1] in ("BACKEND", "FRONTEND"):
                continue
            states[fields[1]] = fields[17].split(" ")[0]
        return states
