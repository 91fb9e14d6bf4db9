"""Where the benchmark runs what: each measured process on a CPU of its own, everything else on the others.

On AWS a function's execution environment has its own share of a CPU, and the
database and Secrets Manager run on other machines. Here they would share the
same CPUs: the servers' work in answer to a cold start (TLS handshakes, moto's
request handling, the delaying proxies) would run beside the measured process
and slow it, by more for the production path, which talks to more servers.
So, on a machine with two CPUs or more, :func:`pin_harness` keeps this process,
and the servers and threads it starts, off the measured CPU, and a process
spawned inside :func:`measured` starts on it (Linux affinity is per thread,
and a child inherits its parent thread's). On one CPU, or where affinity
cannot be set, both do nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

MEASURED_CPU = 0
_chosen: dict[str, list[int]] = {}  # set by pin_harness


def _allowed() -> set[int]:
    try:
        return os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return set()


def layout() -> dict[str, list[int]]:
    """``{"measured": [cpu], "harness": [cpus]}`` when measured processes get a CPU of their own, else ``{}``."""
    allowed = sorted(_allowed())
    if len(allowed) < 2 or MEASURED_CPU not in allowed:
        return {}
    return {"measured": [MEASURED_CPU], "harness": [cpu for cpu in allowed if cpu != MEASURED_CPU]}


def pin_harness() -> dict[str, list[int]]:
    """Move this thread (and so what it starts from now on) off the measured CPU; return the layout."""
    global _chosen
    _chosen = layout()
    if _chosen:
        os.sched_setaffinity(0, _chosen["harness"])
    return _chosen


@contextmanager
def measured() -> Iterator[None]:
    """Inside the block, processes this thread spawns start on the measured CPU (after :func:`pin_harness`)."""
    if not _chosen:
        yield
        return
    os.sched_setaffinity(0, _chosen["measured"])
    try:
        yield
    finally:
        os.sched_setaffinity(0, _chosen["harness"])
