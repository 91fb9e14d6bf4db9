"""The per-container TTL cache."""

from shared.cache import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_value_is_returned_until_it_expires():
    clock = Clock()
    cache = TTLCache(clock=clock)
    cache.put("a", 1, ttl_seconds=10)
    clock.now = 9.9
    assert cache.get("a") == 1
    clock.now = 10
    assert cache.get("a") is None


def test_oldest_entry_goes_when_full():
    cache = TTLCache(max_entries=2, clock=Clock())
    for key, value in (("a", 1), ("b", 2), ("c", 3)):
        cache.put(key, value, ttl_seconds=10)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, 2, 3)


def test_zero_ttl_stores_nothing():
    cache = TTLCache(clock=Clock())
    cache.put("a", 1, ttl_seconds=0)
    assert cache.get("a") is None
