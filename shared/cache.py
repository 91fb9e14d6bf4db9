"""A small per-container cache whose entries expire after a fixed time."""

from __future__ import annotations

import time


class TTLCache:
    """Up to ``max_entries`` values, each forgotten ``ttl_seconds`` after it was stored.

    A ``ttl_seconds`` of 0 disables caching. When full, the oldest entry goes.
    """

    def __init__(self, ttl_seconds: float, max_entries: int = 1024, clock=time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self.entries: dict = {}

    def get(self, key):
        """The value stored under ``key`` if it has not expired, else None."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if self.clock() >= expires_at:
            del self.entries[key]
            return None
        return value

    def put(self, key, value) -> None:
        if self.ttl_seconds <= 0:
            return
        self.entries.pop(key, None)
        if len(self.entries) >= self.max_entries:
            del self.entries[next(iter(self.entries))]
        self.entries[key] = (self.clock() + self.ttl_seconds, value)
