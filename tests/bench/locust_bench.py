"""The one Locust profile bench-service drives both servers with: liveness and single-record reads."""

from __future__ import annotations

import os
import random

from locust import HttpUser, between, task

MAX_ID = int(os.environ.get("BENCH_MAX_ID", "500"))
# "saturate": almost no think time, to find throughput; "paced": users who read, then think for about a second.
PACING = {"saturate": between(0.01, 0.05), "paced": between(0.5, 1.5)}


class Reader(HttpUser):
    wait_time = PACING[os.environ.get("BENCH_PACING", "paced")]

    @task(1)
    def health(self) -> None:
        self.client.get("/health", name="/health")

    @task(3)
    def read(self) -> None:
        self.client.get(f"/api/records/{random.randint(1, MAX_ID)}", name="/api/records/[id]")  # nosec B311
