"""A value loaded on demand and kept for a time-to-live, shared safely by gunicorn's threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlValue(Generic[T]):
    def __init__(
        self,
        load: Callable[[], T],
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
        stale_retry_s: float | None = None,
    ) -> None:
        """``stale_retry_s``: when a refresh fails, keep serving the expired value and retry after this long."""
        self._load = load
        self._ttl_s = ttl_s
        self._stale_retry_s = stale_retry_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[T, float] | None = None

    def get(self) -> T:
        """The cached value, or a fresh load once the TTL has passed (whatever ``load`` raises propagates)."""
        with self._lock:
            if self._cached and self._clock() - self._cached[1] < self._ttl_s:
                return self._cached[0]
            try:
                value = self._load()
            except Exception:
                if self._cached is None or self._stale_retry_s is None:
                    raise
                stale = self._cached[0]
                self._cached = (stale, self._clock() - self._ttl_s + self._stale_retry_s)
                return stale
            self._cached = (value, self._clock())
            return value

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    @property
    def loaded(self) -> bool:
        return self._cached is not None
