"""Read-through cache against a real redis-server; an outage degrades to the database, never to errors."""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest
import redis

from ops.postgres import free_port
from ops.redis_server import LocalRedis
from service import create_app
from service.cache import NO_RETRY, RecordCache
from tests.service.conftest import local_settings


@pytest.fixture
def redis_server():
    server = LocalRedis().start()
    yield server
    server.stop()


def test_reads_fill_the_cache_and_are_served_from_it(database_url, redis_server):
    app = create_app(local_settings(database_url, cache_url=f"redis://127.0.0.1:{redis_server.port}/0",
                                    cache_prefix="t1:", cache_ttl_s=30))
    client = app.test_client()
    record = client.post("/api/records", json={"subject": "c", "kind": "note", "body": "cached"}).get_json()
    cache = app.extensions["records"].cache
    assert client.get(f"/api/records/{record['id']}").get_json() == record
    assert client.get(f"/api/records/{record['id']}").get_json() == record
    assert (cache.misses, cache.hits) == (1, 1)
    raw = redis.Redis(port=redis_server.port)
    assert 0 < raw.ttl(f"t1:record:{record['id']}") <= 30


def test_cache_outage_degrades_to_the_database(database_url, redis_server):
    app = create_app(local_settings(database_url, cache_url=f"redis://127.0.0.1:{redis_server.port}/0"))
    client = app.test_client()
    record = client.post("/api/records", json={"subject": "c", "kind": "note", "body": "x"}).get_json()
    redis_server.stop()
    assert client.get(f"/api/records/{record['id']}").status_code == 200
    assert client.post("/api/records", json={"subject": "c", "kind": "note", "body": "y"}).status_code == 201


def test_write_invalidates_the_cached_entry(redis_server):
    client = redis.Redis(port=redis_server.port)
    cache = RecordCache(client, "t3:", 30)
    cache.put({"id": 5, "body": "old"})
    assert cache.get(5) == {"id": 5, "body": "old"}
    cache.invalidate(5)
    assert cache.get(5) is None


def _local_url(port: int) -> RecordCache:
    return RecordCache.from_url(f"redis://127.0.0.1:{port}/0", "t5:", 30, timeout_s=0.5)


def _elasticache(port: int) -> RecordCache:
    return RecordCache.for_elasticache(host="127.0.0.1", port=port, tls=False, prefix="t5:", ttl_s=30, timeout_s=0.5,
                                       credentials=redis.UsernamePasswordCredentialProvider(password="token"))


@pytest.mark.parametrize("connect", [_local_url, _elasticache])
def test_a_broken_cache_costs_one_attempt_not_a_retry_storm(connect):
    """A server that drops every connection: the cache tries once and degrades (redis-py alone would try 11 times
    with backoff, seconds per request), however the client was configured."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        attempts: list[int] = []

        def drop_connections() -> None:
            listener.settimeout(0.3)  # the thread ends once the client has stopped trying
            with contextlib.suppress(OSError):
                while True:
                    connection, _ = listener.accept()
                    attempts.append(1)
                    connection.close()

        dropper = threading.Thread(target=drop_connections, daemon=True)
        dropper.start()
        cache = connect(listener.getsockname()[1])
        assert cache.get(1) is None
        dropper.join(timeout=5)
    assert len(attempts) == 1


def test_after_a_failure_the_cache_is_bypassed_for_a_cool_down():
    now = [0.0]
    client = redis.Redis(port=free_port(), socket_connect_timeout=0.2, retry=NO_RETRY)
    cache = RecordCache(client, "t4:", 30, clock=lambda: now[0])
    assert cache.get(1) is None  # connection refused: logged, not raised
    now[0] = 1.0
    assert not cache._usable()
    now[0] = 10.0
    assert cache._usable()


def test_without_a_cache_url_the_service_runs_uncached(database_url):
    app = create_app(local_settings(database_url))
    assert not app.extensions["records"].cache.enabled
    assert app.test_client().get("/api/records").status_code == 200


@pytest.fixture
def redis_with_auth():
    server = LocalRedis(password="token-from-secrets-manager").start()
    yield server
    server.stop()


def test_elasticache_settings_authenticate_with_the_token_from_secrets_manager(database_url, redis_with_auth):
    """As deployed: CACHE_HOST/PORT/SECRET_ID, the AUTH token read from Secrets Manager (moto), never the env."""
    import json

    import boto3
    from moto import mock_aws

    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        secrets.create_secret(Name="records/test/cache", SecretString=json.dumps({"token": redis_with_auth.password}))
        app = create_app(
            local_settings(database_url, cache_host="127.0.0.1", cache_port=redis_with_auth.port,
                           cache_secret_id="records/test/cache", cache_tls=False, cache_prefix="auth:",
                           aws_region="us-east-1"),
            aws=lambda name: boto3.client(name, region_name="us-east-1"),
        )
        client = app.test_client()
        record = client.post("/api/records", json={"subject": "a", "kind": "note", "body": "auth"}).get_json()
        assert client.get(f"/api/records/{record['id']}").status_code == 200
        assert client.get(f"/api/records/{record['id']}").status_code == 200
    cache = app.extensions["records"].cache
    assert (cache.misses, cache.hits) == (1, 1)
    stored = redis.Redis(port=redis_with_auth.port, password=redis_with_auth.password).keys("auth:*")
    assert stored == [f"auth:record:{record['id']}".encode()]


@pytest.mark.parametrize(
    "secret_reply, reason",
    [
        ({"return_value": {"SecretString": '{"token": "wrong"}'}}, "invalid username-password pair"),
        ({"side_effect": RuntimeError("AccessDeniedException")}, "cannot read secret records/test/cache"),
    ],
)
def test_a_refused_or_unreadable_token_degrades_to_the_database(database_url, redis_with_auth, secret_reply, reason):
    from unittest.mock import Mock

    from structlog.testing import capture_logs

    secrets = Mock()
    secrets.get_secret_value.configure_mock(**secret_reply)
    app = create_app(
        local_settings(database_url, cache_host="127.0.0.1", cache_port=redis_with_auth.port,
                       cache_secret_id="records/test/cache", cache_tls=False, cache_prefix="wrong:"),
        aws=lambda name: secrets,
    )
    client = app.test_client()
    with capture_logs() as logs:
        created = client.post("/api/records", json={"subject": "a", "kind": "note", "body": "x"})
        read = client.get(f"/api/records/{created.get_json()['id']}")
    assert (created.status_code, read.status_code) == (201, 200)
    assert app.extensions["records"].cache.hits == 0
    warnings = [entry for entry in logs if entry["event"] == "cache_unavailable"]
    assert warnings and reason in warnings[0]["error"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"cache_url": "redis://127.0.0.1:1/0", "cache_host": "h", "cache_secret_id": "s"}, "not both"),
        ({"cache_host": "h"}, "go together"),
        ({"cache_secret_id": "s"}, "go together"),
    ],
)
def test_cache_settings_name_one_source(overrides, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        local_settings("postgresql://u@127.0.0.1/x", **overrides)
