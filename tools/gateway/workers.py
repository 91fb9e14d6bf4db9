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
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools import rie
from tools.gateway.api import Function
from tools.loopback import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
ERROR, TIMEOUT, CRASH = "error", "timeout", "crash"
RIE_GRACE_SECONDS = 2.0
INIT_TIMEOUT_SECONDS = 10.0  # Lambda gives Init its own 10 s

Log = Callable[[str], None]


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

    def describe(self, function: str) -> str:
        """``MeFunction (cold start, init 98.4 ms)``, ``MeFunction (warm; timeout: ...)``..."""
        start = "warm"
        if self.cold:
            start = f"cold start, init {self.init_ms:.1f} ms" if self.init_ms is not None else "cold start"
        outcome = ""
        if self.failure:
            error_type = f"{self.error_type}: " if self.error_type else ""
            outcome = f"; {self.failure}: {error_type}{self.detail}"
        return f"{function} ({start}{outcome})"


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


def forward_lines(stream, prefix: str, log: Log) -> None:
    """Copy each line of ``stream`` to ``log`` with ``prefix``, on a background thread, until EOF."""

    def pump() -> None:
        for raw in iter(stream.readline, b""):
            log(f"{prefix} {raw.decode(errors='replace').rstrip()}")

    threading.Thread(target=pump, daemon=True).start()


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

    def _start(self) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.gateway.runner", self.function.handler],
            cwd=ROOT, env=self.environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        forward_lines(process.stderr, f"[{self.function.name}]", self.log)
        return process

    def _answer(self, timeout: float, outcome: Invocation) -> dict | None:
        """The runner's next JSON line; None (and ``outcome``'s failure set) on timeout or exit."""
        readable, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not readable:
            outcome.failure, outcome.detail = TIMEOUT, f"Task timed out after {timeout:.2f} seconds"
            return None
        line = self.process.stdout.readline()
        if not line:
            outcome.failure, outcome.detail = CRASH, f"Runtime exited with status {self.process.wait()}"
            return None
        return json.loads(line)

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
        return outcome

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            _terminate(self.process)


class RieWorker:
    """``aws-lambda-rie`` running the handler under ``awslambdaric``; its REPORT lines go to the log."""

    def __init__(self, function: Function, environment: dict[str, str], log: Log) -> None:
        self.function = function
        self.environment = environment
        self.log = log
        self.process: subprocess.Popen | None = None
        self.port = 0

    def invoke(self, event: dict, request_id: str) -> Invocation:
        cold = self.process is None
        if cold:
            self.port = free_port()
            self.process = rie.start(self.function.handler, self.port, self.environment, log_file=subprocess.PIPE)
            forward_lines(self.process.stdout, f"[{self.function.name}]", self.log)
        started = time.perf_counter()
        outcome = Invocation(cold=cold)
        try:
            outcome.result = rie.invoke(self.port, event, self.function.timeout + RIE_GRACE_SECONDS, request_id)
        except rie.FunctionError as exc:
            outcome.failure, outcome.error_type, outcome.detail = ERROR, exc.error_type, str(exc)
        except rie.InvokeTimeout as exc:
            outcome.failure, outcome.detail = TIMEOUT, str(exc)
        except rie.RIEError as exc:
            outcome.failure, outcome.detail = CRASH, str(exc)
        outcome.duration_ms = (time.perf_counter() - started) * 1000
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

    def close(self) -> None:
        with self.condition:
            workers, self.workers, self.idle = list(self.workers), set(), []
        for worker in workers:
            worker.stop()
