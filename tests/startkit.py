"""Helpers for the tests of a function's early start: wait for it, poll for its effects, make a database request."""

from __future__ import annotations

import threading
import time

from tests.apigw import parsed, rest_authorizer, rest_event
from tests.fixtures.resources import parcels

EARLY_THREADS = ("db-connect", "secret-prefetch")


def wait_for_early_start() -> None:
    """Wait (up to 10 s each) for the threads an early start runs in the background."""
    for thread in threading.enumerate():
        if thread.name in EARLY_THREADS:
            thread.join(10)


def eventually(condition, timeout: float = 5.0) -> bool:
    """Whether ``condition()`` holds within ``timeout`` (the driver's monitor connects in its own thread)."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def database_request() -> int:
    """The status of a database read (the fixture resource's GET /parcels), as an authorized caller."""
    return parsed(parcels.lambda_handler(rest_event("GET", "/parcels", authorizer=rest_authorizer()), None))[0]
