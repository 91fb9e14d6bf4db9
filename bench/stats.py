"""Summary statistics of latency samples: percentiles, median and spread."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0..100) of ``samples``, interpolated linearly between ranks.

    Same definition as numpy's default: rank ``p / 100 * (n - 1)`` in the sorted
    samples. Raises ValueError for no samples or ``p`` outside 0..100.
    """
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {p}")
    ordered = sorted(samples)
    rank = p / 100 * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(samples: Sequence[float]) -> dict[str, float]:
    """Count, min, p25, median (p50), p75, p95, p99, max and mean of ``samples``."""
    if not samples:
        raise ValueError("summary of no samples")
    ordered = sorted(samples)
    result = {"n": len(ordered), "min": ordered[0]}
    for p in (25, 50, 75, 95, 99):
        result[f"p{p}"] = percentile(ordered, p)
    result["max"] = ordered[-1]
    result["mean"] = sum(ordered) / len(ordered)
    return result


def ratio(value: float, reference: float) -> float:
    """``value / reference``; infinity when the reference is zero."""
    return value / reference if reference else math.inf
