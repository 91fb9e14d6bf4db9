"""Invoke the function that ``template.yaml`` routes an event to, on the local database.

    python -m tools.invoke events/me.json [--repeat N] [--runtime rie] [--db fresh]

Runs the event once and prints the function's answer on stdout; on stderr, the
database it used and the cold start, split into import and first invocation.
``--repeat N`` runs it N times for timing (a PATCH or DELETE applies each
time): the first run is the cold start, the others warm. With ``--runtime
rie`` the function runs under ``aws-lambda-rie`` and ``awslambdaric`` instead
(see ``tools/rie.py``), and RIE's own START/END/REPORT lines show on stderr.
The database is chosen by :mod:`tools.database` (``--db fresh``: an empty one);
an empty local database first gets the handler modules' ``SEED`` documents
(see :mod:`tools.seed`), in a process of its own; the authorizer uses none.

In event files, ``{{LOCAL_TOKEN}}`` is replaced by a fresh token signed with
the local development secret (see ``make token``).

A missing, unreadable or malformed event, one the template routes to no
function, a ``Handler`` that does not load, or a ``{{LOCAL_TOKEN}}`` event
outside ``STAGE=local`` is one line on stderr and exit status 2. When the
function fails (a 5xx answer, an exception other than an authorizer's
``Unauthorized``, a timeout), the answer is printed, then one line saying why
(the error its request log names, such as a bad setting), and the exit status is 1.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tools import cli, database, loopback, samtemplate, seed
from tools.cli import CommandError
from tools.gateway.runner import HandlerError, LogLines, load_handler
from tools.gateway.workers import log_record
from tools.lambda_context import Context

ROOT = Path(__file__).resolve().parent.parent
FUNCTION_FAILED = 1
RIE_OUTPUT_SECONDS = 2.0  # for RIE's last lines to come once it stopped
SETTING_FIX = "set it right in your shell or in the template's Environment, or unset it for its default"

TOKEN_PLACEHOLDER = "{{LOCAL_TOKEN}}"
NOT_AN_EVENT = (
    "is neither an API Gateway proxy event (httpMethod and path, or version 2.0 with "
    "requestContext.http.method and rawPath) nor an authorizer event (type TOKEN or REQUEST with "
    "methodArn, or version 2.0 with routeArn); see events/ for examples"
)


def fill_token(text: str) -> str:
    """``text`` with ``{{LOCAL_TOKEN}}`` replaced by a fresh local token for alice."""
    if TOKEN_PLACEHOLDER not in text:
        return text
    from tools.local_token import mint_local_token

    return text.replace(TOKEN_PLACEHOLDER, mint_local_token("alice"))


def read_event_text(path: Path) -> str:
    """The text of an event file; CommandError saying what is wrong with the path."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file (the event files are in events/ and events/v2/)") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a folder: give one event file of it") from None
    except PermissionError:
        raise CommandError(f"{path} cannot be read: permission denied") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text, so it holds no JSON event") from None
    except OSError as exc:
        raise CommandError(f"{path} cannot be read: {exc.strerror or exc}") from None


def parse_event(text: str, path: Path) -> dict:
    """The JSON object in ``text``; CommandError when it is not one."""
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(event, dict):
        raise CommandError(f"{path} holds a JSON {type(event).__name__}, not an event object")
    return event


def load_event(path: Path) -> dict:
    """The event in ``path``, with ``{{LOCAL_TOKEN}}`` replaced by a fresh local token."""
    return parse_event(fill_token(read_event_text(path)), path)


def event_route(event: dict) -> tuple[str, str]:
    """The method and path an API Gateway proxy event asks for; LookupError when it has none."""
    if event.get("version") == "2.0":
        http = (event.get("requestContext") or {}).get("http") or {}
        method, path = http.get("method"), event.get("rawPath")
    else:
        method, path = event.get("httpMethod"), event.get("path")
    if not isinstance(method, str) or not isinstance(path, str) or not method or not path.startswith("/"):
        raise LookupError(f"the event {NOT_AN_EVENT}")
    return method.upper(), path


def is_authorizer_event(event: dict) -> bool:
    return event.get("type") in ("TOKEN", "REQUEST") or "routeArn" in event


def function_for(event: dict, template: dict) -> tuple[str, str]:
    """The logical id and handler that ``template`` gives this event; LookupError when it routes none."""
    if is_authorizer_event(event):
        return samtemplate.authorizer_function(template)
    method, path = event_route(event)
    routes = samtemplate.api_routes(template)
    for route in routes:
        if route.method == method and samtemplate.path_matches(route.path, path):
            return route.function, route.handler
    served = ", ".join(f"{route.method} {route.path}" for route in routes if route.method != "OPTIONS")
    raise LookupError(f"template.yaml routes no function for {method} {path}; it routes {served}")


def invoke(handler_path: str, function_name: str, event_text: str, repeat: int = 1):
    """Import the handler, then invoke it ``repeat`` times.

    Returns the first result, the import ms, each run's ms and the log lines
    of the first run. Each run gets a fresh copy of the event (and token),
    minted outside the timings: minting loads jwt, which the function itself
    may not import. A handler that does not load is a CommandError.
    """
    started = time.perf_counter()
    try:
        handler = load_handler(handler_path)
    except HandlerError as exc:
        raise CommandError(f"{function_name}: {exc}") from None
    import_ms = (time.perf_counter() - started) * 1000
    first, runs, lines, console = None, [], [], sys.stdout
    logged = LogLines(lambda line: (lines.append(line), console.write(line + "\n")), console.flush)
    for index in range(repeat):
        event = json.loads(fill_token(event_text))
        with contextlib.redirect_stdout(logged) if index == 0 else contextlib.nullcontext():
            started = time.perf_counter()
            result = _call(handler, event, function_name)
            runs.append((time.perf_counter() - started) * 1000)
        logged.flush()
        first = result if index == 0 else first
    return first, import_ms, runs, lines


def _records(lines: list[str]) -> list[dict]:
    return [record for record in map(log_record, lines) if record is not None]


def logged_error(lines: list[str]) -> tuple[str, str] | None:
    """What went wrong, as the function logged it: its request line's ``error`` and ``detail``, else its first
    warning or error (``database unavailable``, ``ServerSelectionTimeoutError``)."""
    records = _records(lines)
    for record in records:
        if record.get("message") == "request" and record.get("error"):
            return str(record["error"]), str(record.get("detail", ""))
    for record in records:
        if record.get("level") in ("WARNING", "ERROR") and record.get("message") != "request":
            return str(record.get("message", "")), str(record.get("error", ""))
    return None


def failure(function_name: str, result, lines: list[str]) -> str | None:
    """One line saying why the function failed, or None when it answered (a 4xx or an authorizer's deny included)."""
    if not isinstance(result, dict):
        return None
    if "failed" in result:
        return f"{function_name} failed: {result['failed']}"
    if "raised" in result:
        raised = str(result["raised"])
        return None if raised.endswith(": Unauthorized") else f"{function_name} raised {raised}"
    status = result.get("statusCode")
    if not isinstance(status, int) or status < 500:
        return None
    error = logged_error(lines)
    if error is None:
        return f"{function_name} answered {status} (its log lines above say why)"
    name, detail = error
    fix = f": {SETTING_FIX}" if name == "ConfigError" else ""
    return f"{function_name} answered {status}: {name}: {detail}{fix}".rstrip(": ")


def _call(handler, event: dict, function_name: str):
    try:
        return handler(event, Context(function_name, request_id=str(uuid.uuid4())))
    except Exception as exc:  # an authorizer denies by raising, as Lambda expects
        return {"raised": f"{type(exc).__name__}: {exc}"}


def invoke_on_rie(function_name: str, template: dict, event_text: str, environment: dict, repeat: int = 1):
    """Run the function under aws-lambda-rie, invoke it ``repeat`` times in one runtime.

    Returns the first result and RIE's output lines (the function's log lines
    among them), which also go to stderr as they come.
    """
    from tools import rie
    from tools.gateway import api
    from tools.gateway.workers import forward_lines, function_environment, with_handler_fix

    function = api.load(template).functions[function_name]
    port = loopback.free_port()
    try:
        process = rie.start(
            function.handler, port, function_environment(function, environment), log_file=subprocess.PIPE
        )
    except rie.RIEError as exc:
        raise CommandError(str(exc)) from None
    lines: list[str] = []

    def keep(line: str) -> bool:
        lines.append(line)
        print(line, file=sys.stderr, flush=True)
        return True

    pump = forward_lines(process.stdout, "", print, take=keep)
    try:
        results = []
        for _ in range(repeat):
            try:
                results.append(rie.invoke(port, json.loads(fill_token(event_text)), timeout=function.timeout + 2))
            except rie.FunctionError as exc:
                results.append({"raised": f"{exc.error_type}: {exc}"})
            except (rie.InvokeTimeout, rie.RIEError) as exc:
                results.append({"failed": with_handler_fix(str(exc), function.handler)})
    finally:
        rie.stop(process)
        pump.join(timeout=RIE_OUTPUT_SECONDS)
    return results[0], lines


def timing_summary(function_name: str, handler_path: str, import_ms: float, runs: list[float]) -> str:
    """What the runs cost: the first is the cold start; the others, if any, are warm."""
    cold = (
        f"{function_name} ({handler_path}): cold start {import_ms + runs[0]:.1f} ms = import {import_ms:.1f} ms"
        f" + first invocation {runs[0]:.1f} ms"
    )
    warm = runs[1:]
    if not warm:
        return f"{cold} (1 run; --repeat N / REPEAT=N for warm timings)"
    return (
        f"{cold}; {len(warm)} warm invocation(s): median {statistics.median(warm):.2f} ms, "
        f"min {min(warm):.2f} ms, max {max(warm):.2f} ms ({len(runs)} runs of the event in all)"
    )


def _parser() -> cli.Parser:
    parser = cli.Parser(
        prog="make invoke", description="Invoke a function with an API Gateway event on the local database."
    )
    parser.add_argument("event", type=Path, help="an event file of events/ or events/v2/")
    parser.add_argument(
        "--runtime",
        choices=("python", "rie"),
        default="python",
        help="rie: run under aws-lambda-rie and awslambdaric, as in AWS's base images",
    )
    parser.add_argument(
        "--repeat",
        type=cli.positive,
        default=1,
        metavar="N",
        help="run the event N times (default 1): the first is the cold start, the others warm",
    )
    parser.add_argument(
        "--db",
        choices=("keep", "fresh"),
        default="keep",
        help="fresh: an empty database for this run (see tools/database.py)",
    )
    return parser


def check_token_stage(event_text: str, path: Path, environ=os.environ) -> None:
    """CommandError when the event asks for a local token but ``STAGE`` is not ``local``, which mints none."""
    stage = environ.get("STAGE", "").strip() or "local"
    if TOKEN_PLACEHOLDER in event_text and stage != "local":
        raise CommandError(
            f"{path} asks for a local token ({TOKEN_PLACEHOLDER}), and local tokens are for "
            f"STAGE=local only, but STAGE is {stage!r}: unset STAGE, or put a token valid at "
            f"{stage!r} in the event instead of {TOKEN_PLACEHOLDER}"
        )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    event_text = read_event_text(args.event)
    event = parse_event(event_text, args.event)
    check_token_stage(event_text, args.event)
    template = samtemplate.load()
    try:
        function_name, handler_path = function_for(event, template)
    except LookupError as exc:
        raise CommandError(f"{args.event}: {exc}") from None
    os.environ.setdefault("STAGE", "local")
    if is_authorizer_event(event):
        print("database: none (the authorizer uses none)", file=sys.stderr)
        return _run(args, function_name, handler_path, template, event_text, {})
    with database.chosen(fresh=args.db == "fresh") as chosen:
        print(chosen.describe(), file=sys.stderr)
        for line in seed.seed_if_empty(chosen):
            print(line, file=sys.stderr)
        os.environ.update(chosen.environment())  # before anything reads the settings
        return _run(args, function_name, handler_path, template, event_text, chosen.environment())


def _run(args, function_name: str, handler_path: str, template: dict, event_text: str, environment: dict) -> int:
    if args.runtime == "rie":
        result, lines = invoke_on_rie(function_name, template, event_text, environment, args.repeat)
        print(json.dumps(result, indent=2))
    else:
        result, import_ms, runs, lines = invoke(handler_path, function_name, event_text, args.repeat)
        print(json.dumps(result, indent=2))
        print(timing_summary(function_name, handler_path, import_ms, runs), file=sys.stderr)
    problem = failure(function_name, result, lines)
    if problem is None:
        return 0
    print(f"make invoke: {problem}", file=sys.stderr)
    return FUNCTION_FAILED


if __name__ == "__main__":
    sys.exit(cli.run(main, "make invoke"))
