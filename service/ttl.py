"""A value loaded on demand and kept for a time-to-live, shared safely by gunicorn's threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlValue(Generic[T]):
    def __init__(self, load: Callable[[], T], ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[T, float] | None = None

    def get(self) -> T:
        """The cached value, or a fresh load once the TTL has passed (whatever ``load`` raises propagates)."""
        with self._lock:
            if self._cached and self._clock() - self._cached[1] < self._ttl_s:
                return self._cached[0]
            value = self._load()
            self._cached = (value, self._clock())
            return value

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    @property
    def loaded(self) -> bool:
        return self._cached is not None
