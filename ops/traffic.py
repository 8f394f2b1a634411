"""Steady traffic for drills and the release controller: what the controller judges and what the drills
count. Bounded: one thread, a fixed rate, loopback or the environment under test only, stopped on exit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import requests

from ops.driver import DriverError


@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic() when the request started
    status: int  # HTTP status, 0 when no answer came
    latency_ms: float

    @property
    def failed(self) -> bool:
        """Not answered 2xx (0: no answer at all): what the release controller and the drills count as a failure."""
        return not 200 <= self.status < 300


class _Background:
    """Runs ``_run`` on a daemon thread from entering the context until leaving it (``_run`` watches ``_stop``)."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class Traffic(_Background):
    """GET ``url`` ``rate`` times a second from a background thread, for as long as the context is open."""

    def __init__(self, url: str, *, rate: float = 50.0, timeout_s: float = 2.0) -> None:
        self.url, self.interval, self.timeout_s = url, 1.0 / rate, timeout_s
        self.samples: list[Sample] = []
        super().__init__("traffic")

    def _run(self) -> None:
        session = requests.Session()
        next_at = time.monotonic()
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status = session.get(self.url, timeout=self.timeout_s).status_code
            except requests.RequestException:
                status = 0
            self.samples.append(Sample(started, status, (time.monotonic() - started) * 1000))
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def since(self, start: float, end: float | None = None) -> list[Sample]:
        return [s for s in list(self.samples) if s.at >= start and (end is None or s.at < end)]


class Writer(_Background):
    """Writes records through a driver as fast as they are acknowledged, one at a time, and remembers which
    were acknowledged: the RPO of a failover is how many of those the new primary does not have."""

    def __init__(self, write: Callable[[Mapping[str, Any]], int], *, pause_s: float = 0.02) -> None:
        self.write, self.pause_s = write, pause_s
        self.acknowledged: list[tuple[float, int, str]] = []  # (monotonic time, record id, client_ref)
        self.refused: list[tuple[float, str]] = []  # (monotonic time, why: "write refused: HTTP 503"...)
        super().__init__("writer")

    def _run(self) -> None:
        number = 0
        while not self._stop.is_set():
            number += 1
            client_ref = f"drill-{time.time_ns()}-{number}"
            try:
                record_id = self.write({"subject": "drill", "kind": "note", "body": f"write {number}",
                                        "client_ref": client_ref})
                self.acknowledged.append((time.monotonic(), record_id, client_ref))
            except DriverError as error:
                self.refused.append((time.monotonic(), str(error)))
            self._stop.wait(self.pause_s)

