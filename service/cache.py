"""Optional read-through cache for single records in Redis/Valkey.

The cache may never turn into an error: any Redis failure is logged, and the cache is bypassed for a short
cool-down so an outage costs one timeout, not one per request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import redis
import structlog
from redis.backoff import NoBackoff
from redis.retry import Retry

log = structlog.get_logger()
COOL_DOWN_S = 5.0


# redis-py retries a failed command ten times with exponential backoff by default: about 4.7 s for one refused
# connection, far past the latency objective. The cache is best effort: one attempt, then the cool-down.
NO_RETRY = Retry(NoBackoff(), 0)


class RecordCache:
    def __init__(
        self, client: redis.Redis | None, prefix: str, ttl_s: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._ttl_s = ttl_s
        self._clock = clock
        self._bypass_until = 0.0
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_url(cls, url: str | None, prefix: str, ttl_s: int, timeout_s: float) -> RecordCache:
        client = (
            redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=NO_RETRY)
            if url else None
        )
        return cls(client, prefix, ttl_s)

    @classmethod
    def for_elasticache(
        cls,
        *,
        host: str,
        port: int,
        credentials: redis.CredentialProvider,
        tls: bool,
        prefix: str,
        ttl_s: int,
        timeout_s: float,
    ) -> RecordCache:
        client = redis.Redis(
            host=host,
            port=port,
            ssl=tls,  # the replication group refuses plaintext (TransitEncryptionMode required)
            credential_provider=credentials,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=NO_RETRY,
        )
        return cls(client, prefix, ttl_s)

    @property
    def enabled(self) -> bool:
        return self._client is not None

    def _key(self, record_id: int) -> str:
        return f"{self._prefix}record:{record_id}"

    def _usable(self) -> bool:
        return self._client is not None and self._clock() >= self._bypass_until

    def _failed(self, operation: str, error: redis.RedisError) -> None:
        self._bypass_until = self._clock() + COOL_DOWN_S
        log.warning("cache_unavailable", operation=operation, error=str(error), bypass_s=COOL_DOWN_S)

    def get(self, record_id: int) -> dict[str, Any] | None:
        if not self._usable():
            return None
        try:
            raw = self._client.get(self._key(record_id))  # type: ignore[union-attr]
        except redis.RedisError as error:
            self._failed("get", error)
            return None
        if raw is None:
            self.misses += 1
            return None
        self.hits += 1
        return json.loads(raw)

    def put(self, record: dict[str, Any]) -> None:
        if self._usable():
            try:
                self._client.set(self._key(record["id"]), json.dumps(record), ex=self._ttl_s)  # type: ignore[union-attr]
            except redis.RedisError as error:
                self._failed("put", error)

    def invalidate(self, record_id: int) -> None:
        if self._usable():
            try:
                self._client.delete(self._key(record_id))  # type: ignore[union-attr]
            except redis.RedisError as error:
                self._failed("invalidate", error)
