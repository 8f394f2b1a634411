"""A database outage: readiness and the API answer 503 within the pool timeout, then recover by themselves."""

from __future__ import annotations

import time

import pytest

from ops.postgres import temporary_postgres
from service import create_app
from tests.service.conftest import local_settings

# A safety bound so a hang fails the test; the behaviour asserted is the status, not the speed.
HANG_GUARD_S = 15


@pytest.fixture(scope="module")
def own_server():
    """Its own cluster, since this test stops and restarts it."""
    with temporary_postgres("records-outage-") as server:
        yield server


def test_readiness_flips_and_recovers(own_server):
    url = own_server.create_database("outage", "pw")
    from service.migrate import migrate

    app = create_app(local_settings(url, db_pool_timeout_s=1, db_connect_timeout_s=1))
    migrate(app.extensions["records"].engine)
    client = app.test_client()
    assert client.get("/ready").status_code == 200
    assert client.post("/api/records", json={"subject": "a", "kind": "note", "body": "b"}).status_code == 201

    own_server.stop()
    started = time.monotonic()
    ready = client.get("/ready")
    api = client.get("/api/records")
    assert time.monotonic() - started < HANG_GUARD_S
    assert ready.status_code == 503 and ready.get_json()["checks"]["database"].startswith("unavailable")
    assert api.status_code == 503 and api.get_json()["error"] == "database unavailable"
    assert client.get("/health").status_code == 200  # liveness never depends on the database

    own_server.start()
    assert client.get("/ready").status_code == 200
    assert client.get("/api/records").status_code == 200
