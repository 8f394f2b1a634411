"""Feature flags from AWS AppConfig (appconfigdata), falling back to a local file, then to safe defaults.

Flags use AppConfig's feature-flag shape: ``{"read_only": {"enabled": true}, "inject_latency": {"enabled": true,
"ms": 300}}``. ``read_only`` pauses writes (503) during a planned switchover; ``inject_latency`` delays API
responses for load-gate and rollback drills. Values are cached for a TTL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from service.ttl import TtlValue

log = structlog.get_logger()
MAX_INJECTED_LATENCY_MS = 10_000
MIN_POLL_INTERVAL_S = 15  # the smallest interval AppConfig accepts; the flag TTL must not be shorter


@dataclass(frozen=True)
class Flags:
    read_only: bool = False
    inject_latency_ms: int = 0

    @classmethod
    def parse(cls, document: dict[str, Any]) -> Flags:
        read_only = bool((document.get("read_only") or {}).get("enabled", False))
        latency = document.get("inject_latency") or {}
        ms = int(latency.get("ms", 0)) if latency.get("enabled") else 0
        return cls(read_only=read_only, inject_latency_ms=max(0, min(ms, MAX_INJECTED_LATENCY_MS)))

    def document(self) -> dict[str, Any]:
        """These flags as the document ``parse`` reads (what an AppConfig version or a ``FLAGS_FILE`` holds)."""
        latency = {"enabled": self.inject_latency_ms > 0, "ms": self.inject_latency_ms}
        return {"read_only": {"enabled": self.read_only}, "inject_latency": latency}


class AppConfigSource:
    """Reads the latest configuration through an appconfigdata session, renewing the session token."""

    def __init__(self, client: Any, application: str, environment: str, profile: str) -> None:
        self._client = client
        self._ids = {
            "ApplicationIdentifier": application,
            "EnvironmentIdentifier": environment,
            "ConfigurationProfileIdentifier": profile,
        }
        self._token: str | None = None
        self._last: dict[str, Any] = {}

    def __call__(self) -> dict[str, Any]:
        try:
            if self._token is None:
                self._token = self._client.start_configuration_session(
                    **self._ids, RequiredMinimumPollIntervalInSeconds=MIN_POLL_INTERVAL_S
                )["InitialConfigurationToken"]
            response = self._client.get_latest_configuration(ConfigurationToken=self._token)
        except Exception:
            self._token = None  # tokens are single-use; the next poll starts a new session
            raise
        self._token = response["NextPollConfigurationToken"]
        content = response["Configuration"].read()
        if content:  # an empty body means "unchanged since the last poll"
            self._last = json.loads(content)
        return self._last


class FileSource:
    def __init__(self, path: Path) -> None:
        self._path = path

    def __call__(self) -> dict[str, Any]:
        return json.loads(self._path.read_text())


class FeatureFlags:
    def __init__(
        self,
        sources: list[Callable[[], dict[str, Any]]],
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sources = sources
        self._last_good: dict[int, Flags] = {}
        self._value = TtlValue(self._load, ttl_s, clock)

    def current(self) -> Flags:
        return self._value.get()

    def _load(self) -> Flags:
        """The first source that answers; when one fails, its last good answer outranks the sources below it,
        so an AppConfig blip mid-switchover cannot silently drop ``read_only`` to the file's or the default."""
        for rank, source in enumerate(self._sources):
            try:
                flags = Flags.parse(source())
            except Exception as error:  # any source failure is logged and handled by rank
                log.warning("flags_source_failed", source=type(source).__name__, error=str(error))
                if rank in self._last_good:
                    return self._last_good[rank]
                continue
            self._last_good[rank] = flags
            return flags
        return Flags()
