"""Credentials from Secrets Manager (moto) against a real PostgreSQL role whose password is rotated."""

from __future__ import annotations

import json

import boto3
import psycopg
import pytest
import redis
from moto import mock_aws

from service import create_app
from service.secrets import CacheTokenProvider, CredentialsProvider, SecretError
from service.settings import Settings

SECRET = "records/test/db"


@pytest.fixture
def aws():
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        yield client


def _remote_settings(postgres, database: str) -> Settings:
    return Settings(db_host="127.0.0.1", db_port=postgres.port, db_name=database, db_secret_id=SECRET,
                    db_sslmode="disable", app_env="test", aws_region="us-east-1", db_pool_size=1, db_max_overflow=0)


def _store(aws, username: str, password: str) -> None:
    value = json.dumps({"username": username, "password": password})
    try:
        aws.put_secret_value(SecretId=SECRET, SecretString=value)
    except aws.exceptions.ResourceNotFoundException:
        aws.create_secret(Name=SECRET, SecretString=value)


def test_service_follows_a_password_rotation_without_restart(postgres, database_url, aws):
    database = database_url.rsplit("/", 1)[1]
    _store(aws, database, "app-password")
    app = create_app(_remote_settings(postgres, database), aws=lambda name: aws)
    client = app.test_client()
    assert client.get("/ready").status_code == 200
    services = app.extensions["records"]
    assert services.credentials.reads == 1

    # Rotation: the database and the secret change; the service still holds the old password in its cache.
    postgres.execute(f"ALTER ROLE {database} PASSWORD 'rotated-password'")
    _store(aws, database, "rotated-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(database_url, connect_timeout=2).close()

    services.engine.dispose()  # new connections from here on, as after a pool recycle
    response = client.post("/api/records", json={"subject": "s1", "kind": "note", "body": "after rotation"})
    assert response.status_code == 201
    assert services.credentials.reads == 2  # the stale password failed once, then the secret was re-read
    postgres.execute(f"ALTER ROLE {database} PASSWORD 'app-password'")


def test_ready_reports_unreadable_secret_as_503(postgres, aws):
    app = create_app(_remote_settings(postgres, "postgres"), aws=lambda name: aws)  # secret does not exist
    response = app.test_client().get("/ready")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "unavailable: SecretError", "secrets": "not loaded"}


def test_api_answers_503_when_the_secret_cannot_be_read(postgres, aws):
    app = create_app(_remote_settings(postgres, "postgres"), aws=lambda name: aws)
    assert app.test_client().get("/api/records").status_code == 503


class FakeClient:
    def __init__(self, values):
        self.values = list(values)

    def get_secret_value(self, SecretId):  # noqa: N803 - boto3's parameter name
        return {"SecretString": self.values.pop(0)}


def test_credentials_are_cached_for_the_ttl():
    now = [0.0]
    provider = CredentialsProvider(FakeClient([json.dumps({"username": "u", "password": "1"}),
                                               json.dumps({"username": "u", "password": "2"})]),
                                   "id", ttl_s=60, clock=lambda: now[0])
    assert provider.current().password == "1"
    now[0] = 59
    assert provider.current().password == "1" and provider.reads == 1
    now[0] = 61
    assert provider.current().password == "2" and provider.reads == 2


def test_secret_without_password_is_a_clear_error():
    provider = CredentialsProvider(FakeClient([json.dumps({"username": "u"})]), "records/x/db", ttl_s=60)
    with pytest.raises(SecretError, match="secret records/x/db has no password"):
        provider.current()


def test_secret_that_is_not_json_is_a_clear_error():
    provider = CredentialsProvider(FakeClient(["not json"]), "records/x/db", ttl_s=60)
    with pytest.raises(SecretError, match="secret records/x/db is not a JSON document"):
        provider.current()


def test_cache_token_is_read_from_the_secret_and_cached_for_the_ttl():
    now = [0.0]
    client = FakeClient([json.dumps({"token": "t1"}), json.dumps({"token": "t2"})])
    provider = CacheTokenProvider(client, "records/x/cache", ttl_s=60, clock=lambda: now[0])
    assert provider.get_credentials() == ("t1",)
    assert provider.get_credentials() == ("t1",)
    now[0] = 61
    assert provider.get_credentials() == ("t2",)


def test_cache_secret_without_token_is_a_clear_error():
    provider = CacheTokenProvider(FakeClient([json.dumps({"password": "p"})]), "records/x/cache", ttl_s=60)
    # A Redis error, so the cache bypasses itself instead of failing the request (test_cache.py shows that).
    with pytest.raises(redis.AuthenticationError, match="secret records/x/cache has no token") as error:
        provider.get_credentials()
    assert isinstance(error.value.__cause__, SecretError)


def test_a_failed_refresh_keeps_serving_the_cached_credentials_then_retries():
    class Flaky:
        def __init__(self):
            self.calls = 0

        def get_secret_value(self, SecretId):  # noqa: N803
            self.calls += 1
            if self.calls == 2:
                raise ConnectionError("secrets manager unreachable")
            return {"SecretString": json.dumps({"username": "u", "password": f"p{self.calls}"})}

    now = [0.0]
    client = Flaky()
    provider = CredentialsProvider(client, "id", ttl_s=60, clock=lambda: now[0])
    assert provider.current().password == "p1"
    now[0] = 61
    assert provider.current().password == "p1"  # outage: the cached password still works
    now[0] = 65
    assert provider.current().password == "p1" and client.calls == 2  # no retry storm before the backoff
    now[0] = 72
    assert provider.current().password == "p3"


def test_after_an_authentication_failure_a_failed_read_is_an_error():
    provider = CredentialsProvider(FakeClient([json.dumps({"username": "u", "password": "1"}), "not json"]),
                                   "records/x/db", ttl_s=60)
    provider.current()
    provider.invalidate()
    with pytest.raises(SecretError):
        provider.current()
