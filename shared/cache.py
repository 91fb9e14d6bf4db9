"""A small per-container cache whose entries expire."""

from __future__ import annotations

import time

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from collections.abc import Callable, Hashable
    from typing import Any


class TTLCache:
    """Up to ``max_entries`` values, each forgotten a given time after it was stored.

    When full, the oldest entry goes.
    """

    def __init__(self, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self.entries: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable) -> Any:
        """The value stored under ``key`` if it has not expired, else None."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if self.clock() >= expires_at:
            del self.entries[key]
            return None
        return value

    def put(self, key: Hashable, value: Any, ttl_seconds: float) -> None:
        """Store ``value`` for ``ttl_seconds``; a TTL of 0 or less stores nothing."""
        if ttl_seconds <= 0:
            return
        self.entries.pop(key, None)
        if len(self.entries) >= self.max_entries:
            del self.entries[next(iter(self.entries))]
        self.entries[key] = (self.clock() + ttl_seconds, value)
