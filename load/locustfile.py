"""The user mix of the load gate: reads, lists, writes and health checks, weighted by the profile.

Requests are named by endpoint class (read, list, write, health), which is what the gate judges. Run through
``python -m load`` (it sets LOAD_PROFILE and LOAD_OUT); Locust alone works too, with LOAD_PROFILE set.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from pathlib import Path

import gevent
from locust import HttpUser, between, events
from locust.env import Environment
from locust.runners import WorkerRunner

from load.profile import ABORT_MARKER, FINAL_STATS, load_profile

PROFILE = load_profile(os.environ.get("LOAD_PROFILE", "local"))
# A hung service must show up as failed requests, not as a quiet (inconclusive) run.
REQUEST_TIMEOUT_S = 10
_known_ids: list[int] = []  # per process: records this process created, so reads hit real rows


class RecordsUser(HttpUser):
    wait_time = between(PROFILE.wait_min_s, PROFILE.wait_max_s)

    def on_start(self) -> None:
        self.write()

    def read(self) -> None:
        if not _known_ids:
            self.list()
            return
        self.client.get(
            f"/api/records/{random.choice(_known_ids)}", name="read", timeout=REQUEST_TIMEOUT_S
        )  # nosec B311 - load mix

    def list(self) -> None:
        self.client.get("/api/records?limit=20", name="list", timeout=REQUEST_TIMEOUT_S)

    def write(self) -> None:
        body = {"subject": f"load-{uuid.uuid4().hex[:8]}", "kind": "note", "body": "load gate",
                "client_ref": uuid.uuid4().hex}
        response = self.client.post("/api/records", json=body, name="write", timeout=REQUEST_TIMEOUT_S)
        if response.status_code == 201:
            _known_ids.append(response.json()["id"])
            del _known_ids[:-1000]  # bounded: the newest thousand are enough to read from

    def health(self) -> None:
        self.client.get("/health", name="health", timeout=REQUEST_TIMEOUT_S)

    # Locust takes a {task: weight} mapping too; its class annotation only names the list form.
    tasks = {  # type: ignore[assignment]
        method: PROFILE.weights[name]
        for name, method in (("read", read), ("list", list), ("write", write), ("health", health))
        if PROFILE.weights.get(name, 0) > 0
    }


@events.init.add_listener
def _abort_when_clearly_failing(environment: Environment, **_: object) -> None:
    """Stop the run as soon as the failure ratio is breached over enough requests (master or local runner only:
    it sees every worker's numbers)."""
    if isinstance(environment.runner, WorkerRunner) or environment.runner is None:
        return
    runner = environment.runner
    out = Path(os.environ.get("LOAD_OUT", "."))

    def watch() -> None:
        while True:
            gevent.sleep(0.5)
            total = runner.stats.total
            if total.num_requests >= PROFILE.abort_after_requests and \
                    100 * total.fail_ratio > PROFILE.abort_failure_percent:
                (out / ABORT_MARKER).write_text(json.dumps({
                    "requests": total.num_requests, "failure_percent": round(100 * total.fail_ratio, 2),
                    "threshold_percent": PROFILE.abort_failure_percent}))
                runner.quit()
                return

    gevent.spawn(watch)


@events.quitting.add_listener
def _write_final_stats(environment: Environment, **_: object) -> None:
    """The statistics the gate judges, written after the last worker report: Locust's CSV is rewritten only once
    a second and not on shutdown, so it misses the end of a run."""
    if isinstance(environment.runner, WorkerRunner) or environment.runner is None:
        return
    stats = environment.runner.stats
    entries = {entry.name: entry for entry in stats.entries.values()} | {"Aggregated": stats.total}
    document = {
        name: {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "rps": entry.total_rps,
            "p50_ms": entry.get_response_time_percentile(0.50) if entry.num_requests else None,
            "p95_ms": entry.get_response_time_percentile(0.95) if entry.num_requests else None,
            "p99_ms": entry.get_response_time_percentile(0.99) if entry.num_requests else None,
        }
        for name, entry in entries.items()
    }
    (Path(os.environ.get("LOAD_OUT", ".")) / FINAL_STATS).write_text(json.dumps(document, indent=2))


_REQUEST_LOG = os.environ.get("LOAD_REQUEST_LOG")
if _REQUEST_LOG:
    # Line-buffered: the game-day drill reads the log while Locust still runs, and stops it with SIGTERM.
    _log = open(_REQUEST_LOG, "a", buffering=1)  # noqa: SIM115 (open for the process's lifetime)

    @events.request.add_listener
    def _log_request(name: str, response_time: float, exception: BaseException | None = None,
                     start_time: float | None = None, **_: object) -> None:
        """Each request with its wall-clock start, for the game day's per-second error-budget count
        (load/game_day.py): Locust's own history keeps only running percentiles."""
        _log.write(f"{start_time or 0:.3f},{response_time:.1f},{1 if exception else 0},{name}\n")
