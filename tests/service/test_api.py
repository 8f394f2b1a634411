from __future__ import annotations

import json

import pytest

from service import create_app
from tests.service.conftest import local_settings

RECORD = {"subject": "patient-17", "kind": "note", "body": "BP 120/80"}


@pytest.fixture(scope="module")
def client(database_url, tmp_path_factory):
    flags = tmp_path_factory.mktemp("flags") / "flags.json"
    flags.write_text("{}")
    app = create_app(local_settings(database_url, flags_file=flags, flags_ttl_s=0.001, colour="green",
                                    app_version="1.2.3", git_sha="abc123", app_region="us-east-2"))
    app.config["flags_path"] = flags
    return app.test_client()


def test_create_then_read_back(client):
    created = client.post("/api/records", json=RECORD)
    assert created.status_code == 201
    record = created.get_json()
    assert record["id"] >= 1 and record["subject"] == "patient-17" and record["created_at"]
    fetched = client.get(f"/api/records/{record['id']}")
    assert fetched.status_code == 200 and fetched.get_json() == record


def test_retried_write_with_the_same_client_ref_returns_the_same_record(client):
    first = client.post("/api/records", json={**RECORD, "client_ref": "drill-0001"})
    again = client.post("/api/records", json={**RECORD, "client_ref": "drill-0001"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]


def test_list_is_newest_first_and_bounded(client):
    ids = [client.post("/api/records", json=RECORD).get_json()["id"] for _ in range(3)]
    items = client.get("/api/records?limit=2").get_json()["items"]
    assert [i["id"] for i in items] == sorted(ids, reverse=True)[:2]


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1"])
def test_bad_limit_is_a_clear_400(client, limit):
    response = client.get(f"/api/records?limit={limit}")
    assert response.status_code == 400
    assert limit in response.get_json()["detail"]


@pytest.mark.parametrize(
    "payload, problem",
    [
        ({"kind": "note", "body": "x"}, "(body): 'subject' is a required property"),
        ({**RECORD, "kind": "gossip"}, "kind: 'gossip' is not one of"),
        ({**RECORD, "subject": ""}, "subject: '' should be non-empty"),
        ({**RECORD, "extra": 1}, "Additional properties are not allowed"),
        ([1, 2], "(body): [1, 2] is not of type 'object'"),
    ],
)
def test_invalid_payload_names_the_field(client, payload, problem):
    response = client.post("/api/records", json=payload)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid payload"
    assert any(problem in line for line in body["detail"]), body["detail"]


def test_not_json_is_415(client):
    response = client.post("/api/records", data="subject=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.get_json()["error"] == "unsupported media type"


def test_malformed_json_is_400(client):
    response = client.post("/api/records", data="{not json", content_type="application/json")
    assert response.status_code == 400


def test_oversized_request_is_413_json(client):
    from service.openapi import MAX_REQUEST_BYTES

    response = client.post("/api/records", data="x" * (MAX_REQUEST_BYTES + 1), content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"] == "request entity too large"


def test_largest_valid_record_fits_the_request_limit(client):
    body = "\U0001F600" * 4000  # escapes to 12 bytes per character in JSON
    response = client.post("/api/records", data=json.dumps({**RECORD, "body": body}), content_type="application/json")
    assert response.status_code == 201


def test_nul_characters_are_rejected_not_stored(client):
    response = client.post("/api/records", json={**RECORD, "body": "a\u0000b"})
    assert response.status_code == 400


def test_method_not_allowed_names_the_allowed_methods(client):
    response = client.delete("/api/records")
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


@pytest.mark.parametrize("method, path, status", [("get", "/api/records/999999", 404), ("get", "/nope", 404),
                                                  ("delete", "/api/records", 405),
                                                  ("get", "/api/records/99999999999999999999999", 404)])
def test_errors_are_json_with_a_request_id(client, method, path, status):
    response = getattr(client, method)(path, headers={"X-Request-Id": "req-42"})
    assert response.status_code == status
    assert response.get_json()["request_id"] == "req-42"
    assert response.headers["X-Request-Id"] == "req-42"


def test_unexpected_errors_hide_the_stack_trace(client, monkeypatch):
    from service import repository

    def explode(*_):
        raise ValueError("secret internals")

    monkeypatch.setattr(repository, "get_record", explode)
    response = client.get("/api/records/1")
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_read_only_flag_pauses_writes_but_not_reads(client):
    path = client.application.config["flags_path"]
    path.write_text(json.dumps({"read_only": {"enabled": True}}))
    try:
        paused = client.post("/api/records", json=RECORD)
        assert paused.status_code == 503 and "read_only" in paused.get_json()["error"]
        assert client.get("/api/records").status_code == 200
    finally:
        path.write_text("{}")
    assert client.post("/api/records", json=RECORD).status_code == 201


def test_latency_flag_delays_api_calls(client, monkeypatch):
    import service.api

    slept = []
    monkeypatch.setattr(service.api.time, "sleep", slept.append)
    path = client.application.config["flags_path"]
    path.write_text(json.dumps({"inject_latency": {"enabled": True, "ms": 250}}))
    try:
        client.get("/api/records")
        client.get("/health")
    finally:
        path.write_text("{}")
    assert slept == [0.25]


def test_health_version_and_openapi(client):
    assert client.get("/health").get_json()["status"] == "ok"
    assert client.get("/version").get_json() == {
        "version": "1.2.3", "git_sha": "abc123", "build_time": "unknown", "region": "us-east-2",
        "environment": "test", "colour": "green"}
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/api/records/{record_id}" in spec["paths"]


def test_ready_when_database_answers(client):
    response = client.get("/ready")
    assert response.status_code == 200 and response.get_json()["checks"] == {"database": "ok"}


def test_prometheus_metrics_count_requests(client):
    client.get("/health")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'records_requests_total{method="GET",route="/health",status="200"}' in text


def test_a_value_the_database_refuses_is_a_400_not_a_500(client, monkeypatch):
    from sqlalchemy.exc import DataError

    from service import repository

    class Refused(Exception):
        def __str__(self) -> str:
            return "value too long for type character varying(64)"

    def refuse(*_):
        raise DataError("INSERT ...", {}, Refused())

    monkeypatch.setattr(repository, "create_record", refuse)
    response = client.post("/api/records", json=RECORD)
    assert response.status_code == 400
    assert response.get_json()["detail"] == ["value too long for type character varying(64)"]


@pytest.mark.parametrize("limit", ["\u00b9", "9" * 5000])
def test_limits_that_are_not_small_ascii_numbers_are_400(client, limit):
    assert client.get("/api/records", query_string={"limit": limit}).status_code == 400


def test_lone_surrogates_are_rejected_not_a_500(client):
    response = client.post("/api/records", data='{"subject": "s", "kind": "note", "body": "\\ud800"}',
                           content_type="application/json")
    assert response.status_code == 400 and "lone surrogate" in response.get_json()["detail"][0]


def test_writes_to_a_read_only_database_are_503_not_500(postgres):
    from service.migrate import migrate

    url = postgres.create_database("replica_like", "pw")
    app = create_app(local_settings(url))
    migrate(app.extensions["records"].engine)
    postgres.execute("ALTER DATABASE replica_like SET default_transaction_read_only = on")
    app.extensions["records"].engine.dispose()
    client = app.test_client()
    response = client.post("/api/records", json=RECORD)
    assert response.status_code == 503 and "read-only" in response.get_json()["error"]
    assert client.get("/api/records").status_code == 200


def test_reusing_a_client_ref_for_different_content_is_a_409(client):
    assert client.post("/api/records", json={**RECORD, "client_ref": "visit-77"}).status_code == 201
    response = client.post("/api/records", json={**RECORD, "body": "changed", "client_ref": "visit-77"})
    assert response.status_code == 409 and "visit-77" in response.get_json()["detail"]
