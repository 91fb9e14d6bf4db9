"""Invoke the function that ``template.yaml`` routes an event to, on the local database.

    python -m tools.invoke events/me.json [--runtime rie]

Prints the response, then the cold start split into import and first
invocation, and one warm invocation. With ``--runtime rie`` the function runs
under ``aws-lambda-rie`` and ``awslambdaric`` instead (see ``tools/rie.py``),
twice, and RIE's own START/END/REPORT lines show on stderr. Without ``MONGODB_URI`` it uses the local
server on ``DB_PORT`` (27017) if one runs there, or starts one for the
duration of the call with its data in ``.local/db``.

In event files, ``{{LOCAL_TOKEN}}`` is replaced by a fresh token signed with
the local development secret (see ``make token``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools import localdb, loopback, samtemplate

ROOT = Path(__file__).resolve().parent.parent

TOKEN_PLACEHOLDER = "{{LOCAL_TOKEN}}"


class LocalContext:
    """The parts of Lambda's context object that handlers and logs read."""

    def __init__(self, function_name: str, timeout_seconds: float = 10.0) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def fill_token(text: str) -> str:
    """``text`` with ``{{LOCAL_TOKEN}}`` replaced by a fresh local token for alice."""
    if TOKEN_PLACEHOLDER not in text:
        return text
    from tools.local_token import mint_local_token

    return text.replace(TOKEN_PLACEHOLDER, mint_local_token("alice"))


def load_event(path: Path) -> dict:
    """The event in ``path``, with ``{{LOCAL_TOKEN}}`` replaced by a fresh local token."""
    return json.loads(fill_token(path.read_text()))


def event_route(event: dict) -> tuple[str, str]:
    """The method and path an API Gateway proxy event asks for."""
    if event.get("version") == "2.0":
        return event["requestContext"]["http"]["method"], event["rawPath"]
    return event["httpMethod"], event["path"]


def is_authorizer_event(event: dict) -> bool:
    return event.get("type") in ("TOKEN", "REQUEST") or "routeArn" in event


def function_for(event: dict, template: dict) -> tuple[str, str]:
    """The logical id and handler that ``template`` gives this event."""
    if is_authorizer_event(event):
        return samtemplate.authorizer_function(template)
    method, path = event_route(event)
    for route in samtemplate.api_routes(template):
        if route.method == method and samtemplate.path_matches(route.path, path):
            return route.function, route.handler
    raise LookupError(f"template.yaml routes no function for {method} {path}")


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def local_database() -> Iterator[str]:
    """A MongoDB URI: ``MONGODB_URI``, a server already on ``DB_PORT``, or one started for now."""
    if os.environ.get("MONGODB_URI"):
        yield os.environ["MONGODB_URI"]
        return
    port = int(os.environ.get("DB_PORT", "27017"))
    if listening(port):
        yield f"mongodb://127.0.0.1:{port}/"
        return
    process = localdb.start(port, ROOT / ".local" / "db")
    try:
        yield f"mongodb://127.0.0.1:{port}/"
    finally:
        localdb.stop(process)


def invoke(handler_path: str, function_name: str, event_text: str) -> tuple[object, float, float, float]:
    """Import the handler, then invoke it twice with the event; return the first result and the times in ms.

    The event's token is minted after the import is timed: minting loads jwt,
    which the function itself may not import.
    """
    module_name, _, attribute = handler_path.rpartition(".")
    started = time.perf_counter()
    handler = getattr(importlib.import_module(module_name), attribute)
    imported = time.perf_counter()
    first_event, second_event = (json.loads(fill_token(event_text)) for _ in range(2))
    first_started = time.perf_counter()
    result = _call(handler, first_event, function_name)
    first = time.perf_counter()
    _call(handler, second_event, function_name)
    warm = time.perf_counter()
    return result, (imported - started) * 1000, (first - first_started) * 1000, (warm - first) * 1000


def _call(handler, event: dict, function_name: str):
    try:
        return handler(event, LocalContext(function_name))
    except Exception as exc:  # an authorizer denies by raising, as Lambda expects
        return {"raised": f"{type(exc).__name__}: {exc}"}


def invoke_on_rie(function_name: str, template: dict, event: dict, uri: str) -> object:
    """Run the function under aws-lambda-rie, invoke it twice (cold, then warm); return the first result.

    RIE's output, REPORT lines included, goes to stderr as it comes.
    """
    from tools import rie
    from tools.gateway import api
    from tools.gateway.workers import function_environment

    function = api.load(template).functions[function_name]
    port = loopback.free_port()
    process = rie.start(function.handler, port, function_environment(function, {"MONGODB_URI": uri}))
    try:
        results = []
        for _ in range(2):
            try:
                results.append(rie.invoke(port, event, timeout=function.timeout + 2))
            except rie.FunctionError as exc:
                results.append({"raised": f"{exc.error_type}: {exc}"})
    finally:
        rie.stop(process)
    return results[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Invoke a function with an API Gateway event on the local database.")
    parser.add_argument("event", type=Path, help="an event file, such as events/me.json")
    parser.add_argument("--runtime", choices=("python", "rie"), default="python",
                        help="rie: run under aws-lambda-rie and awslambdaric, as in AWS's base images")
    args = parser.parse_args(argv)

    event_text = args.event.read_text()
    template = samtemplate.load()
    function_name, handler_path = function_for(json.loads(event_text), template)
    os.environ.setdefault("STAGE", "local")
    with local_database() as uri:
        os.environ["MONGODB_URI"] = uri  # before anything reads the settings
        if args.runtime == "rie":
            event = json.loads(fill_token(event_text))
            print(json.dumps(invoke_on_rie(function_name, template, event, uri), indent=2))
            return 0
        result, import_ms, first_ms, warm_ms = invoke(handler_path, function_name, event_text)
    print(json.dumps(result, indent=2))
    print(
        f"{function_name} ({handler_path}): cold start {import_ms + first_ms:.1f} ms "
        f"= import {import_ms:.1f} ms + first invoke {first_ms:.1f} ms; warm invoke {warm_ms:.2f} ms",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
