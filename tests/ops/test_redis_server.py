"""The throwaway redis-server: started answering PING, or a clear error, never a hang."""

import pytest

from ops import redis_server
from ops.redis_server import LocalRedis, RedisError


def test_a_missing_binary_is_named(monkeypatch):
    monkeypatch.setattr(redis_server, "REDIS", None)
    with pytest.raises(RedisError, match="redis-server is not installed"):
        LocalRedis().start()


def test_a_server_that_cannot_listen_is_an_error_not_a_hang(tmp_path):
    first = LocalRedis().start(tmp_path / "first.log")
    try:
        with pytest.raises(RedisError, match=f"redis-server on port {first.port} did not answer within"):
            LocalRedis(port=first.port).start(tmp_path / "second.log", timeout_s=2)
        assert "Address already in use" in (tmp_path / "second.log").read_text()
    finally:
        first.stop()
