"""Run a handler the way AWS's Python base images do: ``aws-lambda-rie`` + ``awslambdaric``.

The Runtime Interface Emulator (RIE) serves Lambda's Invoke API on loopback
and drives the runtime interface client through the real Runtime API, so the
handler runs under the same bootstrap code as in Lambda. RIE prints the
``START``, ``END`` and ``REPORT`` lines that Lambda writes to CloudWatch.

    process = rie.start("handlers.me.lambda_handler", port)
    result = rie.invoke(port, event)
    rie.stop(process)

What RIE does, read from its source and checked by ``tests/test_rie.py``:

- One process serves any number of invocations, one at a time, in one runtime
  process. The runtime starts on the first invocation, whose REPORT line alone
  carries ``Init Duration``; but RIE times only its own hand-off there (well
  under a millisecond): the handler's imports count in that first
  invocation's ``Duration``.
- A timed-out invocation answers ``Task timed out after N.00 seconds`` (not
  JSON), and the next invocation runs in a new runtime process, with no new
  ``Init Duration``. A runtime that exits fails its invocation with 502
  ``Runtime.ExitError``, and the next one gets a new runtime too.
  :mod:`tools.gateway` replaces the whole RIE process in both cases.
- ``Max Memory Used`` is the configured memory size, not a measurement.
- A handler that raises answers 200 with ``{"errorMessage", "errorType",
  "stackTrace"}``, like Lambda's Invoke API without its error header.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tools import gobuild, loopback

ROOT = Path(__file__).resolve().parent.parent
MODULE = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
VERSION = "v0.0.0-20261030222936-bef5c4ba774d"  # the module publishes no tags to the proxy: a pinned pseudo-version
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
START_TIMEOUT_SECONDS = 10.0
REPORT = re.compile(r"^REPORT RequestId: (?P<request_id>\S+)\s+(?P<fields>.*)$")


class RIEError(RuntimeError):
    """RIE could not be built, did not start, or did not answer."""


class FunctionError(Exception):
    """The handler raised; ``error_type`` and the message are the runtime's report of it."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class InvokeTimeout(Exception):
    """The invocation ran past the function's timeout."""


def binary() -> Path:
    """The ``aws-lambda-rie`` binary, built once from the Go module proxy into ``.local/bin``."""
    try:
        return gobuild.install(MODULE, VERSION, "aws-lambda-rie")
    except gobuild.GoBuildError as exc:
        raise RIEError(str(exc)) from None


def start(handler: str, port: int, env: dict | None = None, log_file=None) -> subprocess.Popen:
    """Run ``handler`` (``module.function``) under RIE on 127.0.0.1:``port``; return once it listens.

    ``env`` is added to this process's environment; set ``AWS_LAMBDA_FUNCTION_TIMEOUT``
    (seconds), ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE`` and ``AWS_LAMBDA_FUNCTION_NAME``
    there as the template does. RIE's output (function logs and the ``REPORT``
    lines) goes to ``log_file`` (a file object or ``subprocess.PIPE``), else to
    this process's stderr.
    """
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    environment.setdefault("AWS_LAMBDA_FUNCTION_TIMEOUT", "3")
    environment.setdefault("LAMBDA_TASK_ROOT", str(ROOT))
    command = [
        str(binary()),
        "--runtime-interface-emulator-address",
        f"127.0.0.1:{port}",
        "--runtime-api-address",
        f"127.0.0.1:{loopback.free_port()}",
        "--log-level",
        "error",
        sys.executable,
        "-m",
        "awslambdaric",
        handler,
    ]
    output = log_file if log_file is not None else sys.stderr
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
    )
    try:
        loopback.wait_until_listening(port, process, START_TIMEOUT_SECONDS)
    except loopback.NotListening as exc:
        raise RIEError(f"aws-lambda-rie did not start: {exc}") from None
    return process


def stop(process: subprocess.Popen) -> None:
    """Stop an RIE process started by :func:`start` (and its runtime) and wait for it."""
    loopback.stop(process, timeout=5)


def invoke(port: int, event, timeout: float, request_id: str | None = None):
    """Invoke the function behind RIE on ``port`` with ``event``; return its result.

    Raises :class:`FunctionError` when the handler raised, :class:`InvokeTimeout`
    when the function timed out (or RIE did not answer within ``timeout``
    seconds) and :class:`RIEError` when RIE failed.
    """
    headers = {"Content-Type": "application/json"}
    if request_id:
        headers["X-Amzn-RequestId"] = request_id
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{INVOKE_PATH}", data=json.dumps(event).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body = answer.read()
    except TimeoutError:
        raise InvokeTimeout(f"no answer within {timeout:.1f} s") from None
    except urllib.error.HTTPError as exc:
        raise RIEError(_runtime_failure(exc.code, exc.read())) from None
    except (urllib.error.URLError, ConnectionError) as exc:
        raise RIEError(f"aws-lambda-rie did not answer: {exc}") from None
    if body.startswith(b"Task timed out after"):
        raise InvokeTimeout(body.decode())
    try:
        result = json.loads(body)
    except ValueError:
        raise RIEError(f"aws-lambda-rie answered something that is not JSON: {body[:300]!r}") from None
    if isinstance(result, dict) and set(result) >= {"errorMessage", "errorType"} and "statusCode" not in result:
        raise FunctionError(str(result["errorType"]), str(result["errorMessage"]))
    return result


def _runtime_failure(status: int, body: bytes) -> str:
    """``Runtime.ImportModuleError: Unable to import module ...``: the runtime's error RIE passes on, else the body."""
    try:
        error = json.loads(body)
    except ValueError:
        error = None
    if isinstance(error, dict) and error.get("errorType"):
        return f"{error['errorType']}: {error.get('errorMessage', '')}"
    return f"aws-lambda-rie answered {status}: {body[:300]!r}"


def parse_report(line: str) -> dict[str, str] | None:
    """The fields of a ``REPORT`` line (``Duration``, ``Init Duration``...), or None for another line."""
    found = REPORT.match(line.strip())
    if found is None:
        return None
    fields = {"RequestId": found["request_id"]}
    for part in found["fields"].split("\t"):
        name, _, value = part.partition(": ")
        if value:
            fields[name.strip()] = value.strip()
    return fields
