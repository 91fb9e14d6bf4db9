"""One local execution environment: import a handler once, then run invocations one at a time.

    python -m tools.gateway.runner handlers.me.lambda_handler

Like Lambda's Python runtime, the handler's module is imported at start (the
Init phase), which is reported as one JSON line ``{"init_ms", "error"}`` on the
stream that was stdout. Then each line on stdin is one invocation
``{"event", "request_id", "deadline_ms"}`` and gets one JSON line back:
``{"result"}`` or ``{"error": {"errorType", "errorMessage", "stackTrace"}}``,
with ``duration_ms``. Each line the handler writes to ``sys.stdout`` (its log
lines) comes first, as ``{"log": line}`` on the same stream, so the gateway
knows which invocation wrote it; anything else goes to stderr. Only the
standard library is imported here, so a cold start costs what the handler's
own imports cost.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable

from tools.lambda_context import Context


class LogLines:
    """``sys.stdout`` for a handler: each complete line it writes is given to ``each_line``.

    ``flush`` gives the last, unfinished line too, then calls ``flushed``.
    """

    def __init__(self, each_line: Callable[[str], object], flushed: Callable[[], object] = lambda: None) -> None:
        self.each_line = each_line
        self.flushed = flushed
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.each_line(line)
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.write("\n")
        self.flushed()

    def isatty(self) -> bool:
        return False


class HandlerError(Exception):
    """The handler cannot be loaded; ``error_type`` is the Lambda runtime's name for why (``Runtime.*``)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _names_the_handler_module(missing: str | None, module_name: str) -> bool:
    return missing is not None and (module_name == missing or module_name.startswith(f"{missing}."))


def _where(exc: BaseException) -> str:
    """``handlers/me.py, line 12``: the last frame of the code that raised, relative to the working folder."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    frame = frames[-1]
    return f" ({os.path.relpath(frame.filename)}, line {frame.lineno})"


def load_handler(handler_path: str):
    """The function ``handler_path`` (``package.module.function``) names, imported as Lambda's runtime would.

    Raises :class:`HandlerError` with one line saying what is wrong and, when
    the ``Handler`` itself is, how to fix it: ``Runtime.ImportModuleError`` (no
    such module, or its import raised), ``Runtime.UserCodeSyntaxError`` or
    ``Runtime.HandlerNotFound``.
    """
    module_name, _, attribute = handler_path.rpartition(".")
    fix = f"fix Handler {handler_path} in template.yaml"
    if not module_name:
        raise HandlerError("Runtime.MalformedHandlerName", f"Handler {handler_path!r} is not module.function: {fix}")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        where = f"{os.path.relpath(exc.filename)}, line {exc.lineno}" if exc.filename else f"line {exc.lineno}"
        raise HandlerError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc.msg} ({where})"
        ) from None
    except ModuleNotFoundError as exc:
        if _names_the_handler_module(exc.name, module_name):
            message = f"Unable to import module '{module_name}': no module named '{exc.name}': {fix}"
            raise HandlerError("Runtime.ImportModuleError", message) from None
        raise HandlerError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}{_where(exc)}"
        ) from None
    except Exception as exc:
        raise HandlerError(
            "Runtime.ImportModuleError",
            f"Unable to import module '{module_name}': {type(exc).__name__}: {exc}{_where(exc)}",
        ) from None
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise HandlerError("Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}': {fix}")
    return handler


def _load(handler_path: str):
    try:
        return load_handler(handler_path), None
    except HandlerError as exc:
        return None, {"errorType": exc.error_type, "errorMessage": str(exc)}


def _run(handler, invocation: dict) -> dict:
    try:
        context = Context(request_id=invocation["request_id"], deadline_ms=invocation["deadline_ms"])
        result = handler(invocation["event"], context)
    except Exception as exc:
        frames = traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next)  # without this frame
        return {
            "error": {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": "".join(frames).splitlines(),
            }
        }
    finally:
        sys.stdout.flush()
    return {"result": result}


def _encoded(answer: dict) -> str:
    try:
        return json.dumps(answer)
    except (TypeError, ValueError) as exc:
        error = {"errorType": "Runtime.MarshalError", "errorMessage": f"Unable to marshal response: {exc}"}
        return json.dumps({"error": error, "duration_ms": answer["duration_ms"]})


def main(argv: list[str]) -> int:
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # what bypasses sys.stdout (a C library, a subprocess) goes to stderr
    sys.stdout = LogLines(lambda line: channel.write(json.dumps({"log": line}) + "\n"), channel.flush)
    started = time.perf_counter()
    handler, init_error = _load(argv[1])
    sys.stdout.flush()
    channel.write(json.dumps({"init_ms": (time.perf_counter() - started) * 1000, "error": init_error}) + "\n")
    channel.flush()
    if init_error:
        return 1
    for line in sys.stdin:
        started = time.perf_counter()
        answer = _run(handler, json.loads(line))
        answer["duration_ms"] = (time.perf_counter() - started) * 1000
        channel.write(_encoded(answer) + "\n")
        channel.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
