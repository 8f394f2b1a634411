"""Credentials from AWS Secrets Manager, cached for a TTL and re-read when they stop working.

Rotation changes the database password under a running service; a connection attempt that fails authentication
calls ``invalidate`` and retries once with a fresh read, so the service follows rotation without a restart. The
cache's AUTH token is read the same way, by redis-py, whenever it opens a connection.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from service.ttl import TtlValue

STALE_RETRY_S = 10.0


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


class SecretError(RuntimeError):
    """The secret cannot be read or lacks username/password; the message names the secret."""


class CredentialsProvider:
    def __init__(self, client: Any, secret_id: str, ttl_s: float, clock: Callable[[], float] = time.monotonic):
        self._client = client
        self._secret_id = secret_id
        # A refresh that fails keeps the cached credentials (they still work until the password rotates);
        # an authentication failure invalidates them, and then a failed read is an error.
        self._value = TtlValue(self._read, ttl_s, clock, stale_retry_s=STALE_RETRY_S)
        self.reads = 0

    def current(self) -> Credentials:
        """:raise SecretError: Secrets Manager refused, or the secret is not a username/password JSON."""
        return self._value.get()

    def invalidate(self) -> None:
        self._value.invalidate()

    @property
    def loaded(self) -> bool:
        return self._value.loaded

    def _read(self) -> Credentials:
        self.reads += 1
        document = _read_json(self._client, self._secret_id, ("username", "password"))
        return Credentials(username=document["username"], password=document["password"])


class CacheTokenProvider(redis.CredentialProvider):
    """The ElastiCache AUTH token for redis-py, asked for on every new connection, cached for the TTL.

    A token rotation (ROTATE, then SET) keeps the old token valid until SET, so a TTL shorter than that window
    is enough; no invalidation on failure is needed.
    """

    def __init__(self, client: Any, secret_id: str, ttl_s: float, clock: Callable[[], float] = time.monotonic):
        self._client = client
        self._secret_id = secret_id
        self._value = TtlValue(self._read, ttl_s, clock, stale_retry_s=STALE_RETRY_S)

    def get_credentials(self) -> tuple[str]:
        """:raise redis.AuthenticationError: the secret cannot be read or has no ``token``; as a Redis error it
        makes the cache bypass itself instead of failing the request."""
        try:
            return (self._value.get(),)
        except SecretError as error:
            raise redis.AuthenticationError(str(error)) from error

    def _read(self) -> str:
        return str(_read_json(self._client, self._secret_id, ("token",))["token"])


def _read_json(client: Any, secret_id: str, fields: tuple[str, ...]) -> dict[str, Any]:
    """:raise SecretError: Secrets Manager refused, or the value is not JSON holding ``fields``."""
    try:
        document = json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"])
        missing = [f for f in fields if not isinstance(document, dict) or f not in document]
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise SecretError(f"secret {secret_id} is not a JSON document ({error})") from None
    except Exception as error:  # botocore's errors share no useful base; the message says which
        raise SecretError(f"cannot read secret {secret_id}: {error}") from error
    if missing:
        raise SecretError(f"secret {secret_id} has no {'/'.join(missing)}")
    return document
