from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from service.flags import MAX_INJECTED_LATENCY_MS, AppConfigSource, FeatureFlags, FileSource, Flags

IDS = {"ApplicationIdentifier": "records", "EnvironmentIdentifier": "prod", "ConfigurationProfileIdentifier": "flags"}


def _body(document) -> StreamingBody:
    raw = json.dumps(document).encode() if document is not None else b""
    return StreamingBody(io.BytesIO(raw), len(raw))


@pytest.mark.parametrize(
    "document, expected",
    [
        ({}, Flags()),
        ({"read_only": {"enabled": True}}, Flags(read_only=True)),
        ({"inject_latency": {"enabled": True, "ms": 300}}, Flags(inject_latency_ms=300)),
        ({"inject_latency": {"enabled": False, "ms": 300}}, Flags()),
        ({"inject_latency": {"enabled": True, "ms": 10**9}}, Flags(inject_latency_ms=MAX_INJECTED_LATENCY_MS)),
    ],
)
def test_flag_documents(document, expected):
    assert Flags.parse(document) == expected


def test_appconfig_session_is_polled_with_the_next_token_and_unchanged_bodies_keep_the_last_value():
    client = boto3.client("appconfigdata", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_response("start_configuration_session", {"InitialConfigurationToken": "t0"},
                      {**IDS, "RequiredMinimumPollIntervalInSeconds": 15})
    stub.add_response("get_latest_configuration",
                      {"NextPollConfigurationToken": "t1", "Configuration": _body({"read_only": {"enabled": True}})},
                      {"ConfigurationToken": "t0"})
    stub.add_response("get_latest_configuration",
                      {"NextPollConfigurationToken": "t2", "Configuration": _body(None)}, {"ConfigurationToken": "t1"})
    source = AppConfigSource(client, "records", "prod", "flags")
    with stub:
        assert source() == {"read_only": {"enabled": True}}
        assert source() == {"read_only": {"enabled": True}}
    stub.assert_no_pending_responses()


def test_falls_back_to_the_file_when_appconfig_fails(tmp_path):
    def broken():
        raise ConnectionError("appconfig unreachable")

    path = tmp_path / "flags.json"
    path.write_text(json.dumps({"read_only": {"enabled": True}}))
    assert FeatureFlags([broken, FileSource(path)], ttl_s=1).current() == Flags(read_only=True)


def test_no_source_gives_safe_defaults(tmp_path):
    assert FeatureFlags([FileSource(tmp_path / "missing.json")], ttl_s=1).current() == Flags()


def test_flags_are_cached_for_the_ttl(tmp_path):
    now = [0.0]
    path = tmp_path / "flags.json"
    path.write_text("{}")
    flags = FeatureFlags([FileSource(path)], ttl_s=30, clock=lambda: now[0])
    assert not flags.current().read_only
    path.write_text(json.dumps({"read_only": {"enabled": True}}))
    now[0] = 29
    assert not flags.current().read_only
    now[0] = 31
    assert flags.current().read_only


def test_an_appconfig_failure_keeps_its_last_good_flags_instead_of_the_fallback(tmp_path):
    answers = [{"read_only": {"enabled": True}}, ConnectionError("blip")]

    def appconfig():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    path = tmp_path / "flags.json"
    path.write_text("{}")
    now = [0.0]
    flags = FeatureFlags([appconfig, FileSource(path)], ttl_s=30, clock=lambda: now[0])
    assert flags.current().read_only
    now[0] = 31
    assert flags.current().read_only  # still paused: the switchover is not silently resumed


def test_a_failed_poll_starts_a_new_session():
    client = boto3.client("appconfigdata", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_response("start_configuration_session", {"InitialConfigurationToken": "t0"},
                      {**IDS, "RequiredMinimumPollIntervalInSeconds": 15})
    stub.add_client_error("get_latest_configuration", "BadRequestException", expected_params={"ConfigurationToken": "t0"})
    stub.add_response("start_configuration_session", {"InitialConfigurationToken": "t9"},
                      {**IDS, "RequiredMinimumPollIntervalInSeconds": 15})
    stub.add_response("get_latest_configuration",
                      {"NextPollConfigurationToken": "t10", "Configuration": _body({})}, {"ConfigurationToken": "t9"})
    source = AppConfigSource(client, "records", "prod", "flags")
    with stub:
        with pytest.raises(Exception, match="BadRequestException"):
            source()
        assert source() == {}
    stub.assert_no_pending_responses()


@pytest.mark.parametrize("flags", [Flags(), Flags(read_only=True), Flags(inject_latency_ms=300),
                                   Flags(read_only=True, inject_latency_ms=MAX_INJECTED_LATENCY_MS)])
def test_flags_written_as_a_document_read_back_the_same(flags):
    assert Flags.parse(flags.document()) == flags
