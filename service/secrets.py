"""Database credentials from AWS Secrets Manager, cached for a TTL and re-read when they stop working.

Rotation changes the password under a running service; a connection attempt that fails authentication calls
``invalidate`` and retries once with a fresh read, so the service follows rotation without a restart.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
        try:
            value = self._client.get_secret_value(SecretId=self._secret_id)["SecretString"]
            document = json.loads(value)
            return Credentials(username=document["username"], password=document["password"])
        except (KeyError, TypeError, json.JSONDecodeError) as error:
            raise SecretError(f"secret {self._secret_id} has no username/password JSON ({error})") from None
        except Exception as error:  # botocore's errors share no useful base; the message says which
            raise SecretError(f"cannot read secret {self._secret_id}: {error}") from error
