"""What ``make serve`` prints for each request: one human line, or the functions' log lines too.

- ``human`` (the default): the function's own request line is folded into the
  gateway's line (status, latency, authorizer cache, cold or warm start, and
  the error a failed request logged); of the other JSON log lines only
  warnings and errors show, as ``LEVEL message: key=value ...``; lines that are
  not JSON (a ``print``) show as they are. A function's exception shows its
  stack trace, unless the function logged an error of its own first (as the
  authorizer does before it fails on a bad setting): that line says it.
- ``json``: every line each function wrote, as it wrote it (under RIE, its
  START, END and REPORT lines too), then the gateway's line.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable

from tools.gateway.workers import ERROR, Invocation, log_record

HUMAN, JSON = "human", "json"
UNAUTHORIZED = "Unauthorized"
MODES = (HUMAN, JSON)
SHOWN_LEVELS = ("WARNING", "ERROR")
HIDDEN_FIELDS = {"level", "message", "_aws", "traceback"}
RUNTIME_LINES = ("START RequestId: ", "END RequestId: ", "REPORT RequestId: ")
# What RIE and awslambdaric write about a runtime that failed: the request's line says it in one.
RUNTIME_FAILURE = re.compile(
    r"^\d\d \w{3} \d{4} [\d:,]+ \[\w+\] \(rapid\) |^\[ERROR\] Runtime\.\w+: "
    r"|^\[WARNING\]\s.*LAMBDA_WARNING: Unhandled exception"
)


class Log:
    """Whole lines on a stream (stderr by default), from any thread, each with the time."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self.lock:
            self.stream.write(f"{time.strftime('%H:%M:%S')} {line}\n")
            self.stream.flush()


def human_form(line: str) -> str | None:
    """How ``line`` shows in human mode, or None when it is hidden."""
    if line.startswith(RUNTIME_LINES):
        return None  # the request's line carries RIE's Duration
    if RUNTIME_FAILURE.search(line):
        return None
    record = log_record(line)
    if record is None:
        return line
    if record.get("message") == "request" or record.get("level") not in SHOWN_LEVELS:
        return None
    details = ", ".join(f"{key}={value}" for key, value in record.items() if key not in HIDDEN_FIELDS)
    return f"{record['level']} {record.get('message', '')}" + (f": {details}" if details else "")


class Console:
    """Prints each request's line, after the lines of the invocations it made, in one of :data:`MODES`."""

    def __init__(self, log: Callable[[str], None], mode: str = HUMAN) -> None:
        self.log = log
        self.mode = mode

    def request(self, line: str, invocations: list[tuple[str, Invocation]]) -> None:
        for function, invocation in invocations:
            for text in self._lines_of(invocation):
                self.log(f"[{function}] {text}")
        self.log(line)

    def _lines_of(self, invocation: Invocation) -> list[str]:
        if self.mode == JSON:
            return [*invocation.logs, *invocation.stack_trace]
        shown = [text for text in map(human_form, invocation.logs) if text is not None]
        if invocation.failure == ERROR and invocation.detail == UNAUTHORIZED:  # a refused token: no bug to show
            return [text for text in shown if not text.startswith(f"[ERROR] {UNAUTHORIZED}")]
        logged_error = any(record.get("level") == "ERROR" for record in invocation.log_records())
        return shown + (invocation.stack_trace if invocation.failure == ERROR and not logged_error else [])
