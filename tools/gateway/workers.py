"""Warm worker processes, like Lambda execution environments: one invocation at a time each.

A worker starts on its first invocation (the cold start) and stays warm for
the next ones. A worker that times out or crashes is stopped, and the next
invocation gets a new one. Two kinds run the same handlers:

- :class:`ProcessWorker`: a Python process running :mod:`tools.gateway.runner`;
- :class:`RieWorker`: ``aws-lambda-rie`` with ``awslambdaric``, as AWS's base images.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tools import rie
from tools.gateway.api import Function
from tools.loopback import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
ERROR, TIMEOUT, CRASH = "error", "timeout", "crash"
RIE_GRACE_SECONDS = 2.0
RIE_FAILED_GRACE_SECONDS = 0.3
NO_MODULE = re.compile(r"^Runtime\.ImportModuleError: Unable to import module '[^']+': No module named '([^']+)'")
INIT_TIMEOUT_SECONDS = 10.0  # Lambda gives Init its own 10 s

Log = Callable[[str], None]


def log_record(line: str) -> dict | None:
    """``line`` as the JSON object a function logged (shared.observability writes those), else None."""
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


@dataclass
class Invocation:
    """How one invocation went. ``failure`` is "" on success, else ERROR (the handler raised), TIMEOUT or CRASH."""

    result: object = None
    failure: str = ""
    detail: str = ""  # for ERROR, the errorMessage
    error_type: str = ""
    cold: bool = False
    init_ms: float | None = None
    duration_ms: float = 0.0
    logs: list[str] = field(default_factory=list)  # what the function wrote to stdout during the invocation
    stack_trace: list[str] = field(default_factory=list)  # for ERROR, where the handler raised
    report: dict[str, str] | None = None  # RIE's REPORT line, parsed

    def describe(self, function: str) -> str:
        """``MeFunction (cold start, init 98.4 ms)``, ``MeFunction (warm; timeout: ...)``..."""
        start = "warm"
        if self.cold:
            start = f"cold start, init {self.init_ms:.1f} ms" if self.init_ms is not None else "cold start"
        if self.report and "Duration" in self.report:
            start += f", Duration {self.report['Duration']}"
        outcome, logged = "", self.logged_problem()
        if self.failure and not (self.failure == ERROR and self.detail == "Unauthorized" and logged):
            error_type = f"{self.error_type}: " if self.error_type else ""
            outcome = f"; {self.failure}: {error_type}{self.detail}"
        elif logged:
            outcome = f"; {logged}"
        return f"{function} ({start}{outcome})"

    def log_records(self) -> list[dict]:
        """The function's log lines that are JSON objects (shared.observability writes those)."""
        return [record for record in map(log_record, self.logs) if record is not None]

    def logged_problem(self) -> str:
        """What went wrong, as the function logged it: a failed request's error, or why a token was refused."""
        for record in self.log_records():
            if record.get("message") == "request" and record.get("error"):
                return f"{record['error']}: {record.get('detail', '')}".rstrip(": ")
            if record.get("message") == "token refused" and record.get("reason"):
                return f"refused: {record['reason']}"
        return ""


def function_environment(function: Function, overrides: dict[str, str]) -> dict[str, str]:
    """What a worker's process sees: the template's variables, this shell's environment, then Lambda's own."""
    return {
        **function.environment,
        **os.environ,
        **overrides,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1"),
        "_HANDLER": function.handler,
        "LAMBDA_TASK_ROOT": str(ROOT),
        "PYTHONPATH": str(ROOT),
    }


def forward_lines(stream, prefix: str, log: Log, take=None) -> threading.Thread:
    """Copy each line of ``stream`` to ``log`` with ``prefix``, on a background thread (returned), until EOF.

    ``take(line)``, when given, sees each line first and returns True to keep it from ``log``.
    """

    def pump() -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            if take is None or not take(line):
                log(f"{prefix} {line}")

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


class LineReader:
    """Lines from a pipe, each within a deadline (``select`` on the descriptor; no hidden buffering)."""

    def __init__(self, stream) -> None:
        self.fd = stream.fileno()
        self.buffer = b""

    def readline(self, timeout: float) -> bytes | None:
        """The next line; b"" at end of stream, None when nothing complete came within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return b""
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"


def with_handler_fix(detail: str, handler: str) -> str:
    """``detail`` of a runtime that could not load ``handler``, with the fix when the Handler itself is wrong."""
    missing, module = NO_MODULE.search(detail), handler.rpartition(".")[0]
    wrong_handler = detail.startswith("Runtime.HandlerNotFound") or (
        missing is not None and f"{module}.".startswith(f"{missing[1]}.")
    )
    if wrong_handler and "fix Handler" not in detail:
        return f"{detail}: fix Handler {handler} in template.yaml"
    return detail


def _describe(error: dict) -> str:
    return f"{error['errorType']}: {error['errorMessage']}"


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()


class ProcessWorker:
    """A Python process that imported the handler once and answers invocations over pipes."""

    def __init__(self, function: Function, environment: dict[str, str], log: Log) -> None:
        self.function = function
        self.environment = environment
        self.log = log
        self.process: subprocess.Popen | None = None
        self.reader: LineReader | None = None

    def _start(self) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.gateway.runner", self.function.handler],
            cwd=ROOT,
            env=self.environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        forward_lines(process.stderr, f"[{self.function.name}]", self.log)
        self.reader = LineReader(process.stdout)
        return process

    def _answer(self, timeout: float, outcome: Invocation) -> dict | None:
        """The runner's next answer, its log lines gathered into ``outcome``; None on timeout or exit."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.reader.readline(deadline - time.monotonic())
            if line is None:
                outcome.failure, outcome.detail = TIMEOUT, f"Task timed out after {timeout:.2f} seconds"
                return None
            if not line:
                outcome.failure, outcome.detail = CRASH, f"Runtime exited with status {self.process.wait()}"
                return None
            message = json.loads(line)
            if "log" not in message:
                return message
            outcome.logs.append(message["log"])

    def invoke(self, event: dict, request_id: str) -> Invocation:
        outcome = Invocation(cold=self.process is None)
        if outcome.cold:
            self.process = self._start()
            ready = self._answer(INIT_TIMEOUT_SECONDS, outcome)
            if ready is None:
                return outcome
            outcome.init_ms = ready["init_ms"]
            if ready["error"]:
                outcome.failure, outcome.detail = CRASH, _describe(ready["error"])
                return outcome
        deadline_ms = (time.time() + self.function.timeout) * 1000
        message = json.dumps({"event": event, "request_id": request_id, "deadline_ms": deadline_ms})
        started = time.perf_counter()
        try:
            self.process.stdin.write(message.encode() + b"\n")
            self.process.stdin.flush()
        except OSError:
            outcome.failure, outcome.detail = CRASH, "the runtime process is gone"
            return outcome
        answer = self._answer(self.function.timeout, outcome)
        outcome.duration_ms = (time.perf_counter() - started) * 1000
        if answer is not None:
            error = answer.get("error")
            outcome.result = answer.get("result")
            if error:
                outcome.failure, outcome.error_type, outcome.detail = ERROR, error["errorType"], error["errorMessage"]
                outcome.stack_trace = error.get("stackTrace") or []
        return outcome

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            _terminate(self.process)


class RieWorker:
    """``aws-lambda-rie`` running the handler under ``awslambdaric``.

    RIE's output during an invocation (the function's lines, START, END and
    REPORT) is gathered into its :class:`Invocation`; anything else goes to the log.
    """

    def __init__(self, function: Function, environment: dict[str, str], log: Log) -> None:
        self.function = function
        self.environment = environment
        self.log = log
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.gathering: list[str] | None = None
        self.reported = threading.Condition()

    def _take(self, line: str) -> bool:
        with self.reported:
            if self.gathering is None:
                return False
            self.gathering.append(line)
            if line.startswith("REPORT RequestId:"):
                self.reported.notify_all()
            return True

    def _gathered(self, grace_seconds: float) -> tuple[list[str], dict[str, str] | None]:
        """The lines of the invocation that just ended, once its REPORT line came (or after a grace period)."""
        with self.reported:
            self.reported.wait_for(lambda: any(line.startswith("REPORT ") for line in self.gathering), grace_seconds)
            lines, self.gathering = self.gathering, None
        report = next((rie.parse_report(line) for line in lines if line.startswith("REPORT ")), None)
        return lines, report

    def invoke(self, event: dict, request_id: str) -> Invocation:
        cold = self.process is None
        if cold:
            self.port = free_port()
            self.process = rie.start(self.function.handler, self.port, self.environment, log_file=subprocess.PIPE)
            forward_lines(self.process.stdout, f"[{self.function.name}]", self.log, take=self._take)
        with self.reported:
            self.gathering = []
        started = time.perf_counter()
        outcome = Invocation(cold=cold)
        try:
            outcome.result = rie.invoke(self.port, event, self.function.timeout + RIE_GRACE_SECONDS, request_id)
        except rie.FunctionError as exc:
            outcome.failure, outcome.error_type, outcome.detail = ERROR, exc.error_type, str(exc)
        except rie.InvokeTimeout as exc:
            outcome.failure, outcome.detail = TIMEOUT, str(exc)
        except rie.RIEError as exc:
            outcome.failure, outcome.detail = CRASH, with_handler_fix(str(exc), self.function.handler)
        outcome.duration_ms = (time.perf_counter() - started) * 1000
        # A runtime that failed writes no REPORT line: its last lines need only a moment.
        outcome.logs, outcome.report = self._gathered(
            RIE_FAILED_GRACE_SECONDS if outcome.failure == CRASH else RIE_GRACE_SECONDS
        )
        return outcome

    def stop(self) -> None:
        if self.process is not None:
            rie.stop(self.process)


class Pool:
    """Up to ``size`` workers of one function; a request waits while all of them are busy."""

    def __init__(self, size: int, make_worker: Callable[[], ProcessWorker | RieWorker]) -> None:
        self.size = size
        self.make_worker = make_worker
        self.idle: list = []
        self.workers: set = set()
        self.stale: set = set()  # busy workers that stop when they finish (see renew)
        self.condition = threading.Condition()

    def _acquire(self):
        with self.condition:
            while not self.idle and len(self.workers) >= self.size:
                self.condition.wait()
            if self.idle:
                return self.idle.pop()  # the most recently used: the warmest
            worker = self.make_worker()
            self.workers.add(worker)
            return worker

    def _release(self, worker, keep: bool) -> None:
        with self.condition:
            keep = keep and worker not in self.stale
            self.stale.discard(worker)
        if not keep:
            worker.stop()
        with self.condition:
            if keep:
                self.idle.append(worker)
            else:
                self.workers.discard(worker)
            self.condition.notify()

    def invoke(self, event: dict, request_id: str) -> Invocation:
        """Run one invocation on a free worker; a worker that timed out or crashed is replaced."""
        worker = self._acquire()
        try:
            invocation = worker.invoke(event, request_id)
        except Exception as exc:
            self._release(worker, keep=False)
            return Invocation(failure=CRASH, detail=f"the worker failed: {type(exc).__name__}: {exc}")
        self._release(worker, keep=invocation.failure not in (TIMEOUT, CRASH))
        return invocation

    def renew(self) -> None:
        """No worker started before this call answers again: idle ones stop now, busy ones once they finish."""
        with self.condition:
            idle, self.idle = self.idle, []
            self.workers.difference_update(idle)
            self.stale.update(self.workers)
            self.condition.notify_all()
        for worker in idle:
            worker.stop()

    def close(self) -> None:
        with self.condition:
            workers, self.workers, self.idle = list(self.workers), set(), []
        for worker in workers:
            worker.stop()
