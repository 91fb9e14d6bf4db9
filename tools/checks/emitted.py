"""The CloudWatch metrics the functions' EMF lines really publish, read from lines they write.

:func:`metrics` reads request lines (from a test run, a soak, a fleet) and
returns every ``(namespace, metric, dimensions)`` their ``_aws`` blocks
declare, with the dimension values seen. :func:`run_functions` makes such lines
offline, for ``make lint``: each function of the template answers every event
file of its routes, in a fresh interpreter, with a database address nothing
listens on (so the database functions answer 503, and their lines still carry
every metric they declare); the authorizer answers the authorizer events twice,
configured (their placeholder tokens are refused) and not (it fails).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections import defaultdict

from tools import loopback, samtemplate
from tools.checks.declarations import ROOT
from tools.events import event_files

RUNNER = """
import importlib, json, sys
module, attribute = sys.argv[1].rsplit(".", 1)
handler = getattr(importlib.import_module(module), attribute)
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as file:
        handler(json.load(file), None)
"""


def request_lines(text: str) -> list[dict]:
    """The JSON lines of ``text`` that carry an EMF block."""
    found = []
    for line in text.splitlines():
        if '"_aws"' not in line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("_aws"), dict):
            found.append(record)
    return found


def metrics(lines: list[dict]) -> dict[tuple[str, str, tuple[str, ...]], set[tuple[str, ...]]]:
    """``{(namespace, metric, dimension names): {dimension values seen}}`` over the lines' EMF directives."""
    found: dict[tuple[str, str, tuple[str, ...]], set[tuple[str, ...]]] = defaultdict(set)
    for line in lines:
        for directive in line["_aws"].get("CloudWatchMetrics", []):
            for dimensions in directive.get("Dimensions", []):
                values = tuple(str(line.get(name)) for name in dimensions)
                for metric in directive.get("Metrics", []):
                    if metric["Name"] in line:
                        found[(directive["Namespace"], metric["Name"], tuple(sorted(dimensions)))].add(
                            tuple(value for _, value in sorted(zip(dimensions, values, strict=True)))
                        )
    return dict(found)


def events_of(template: dict, function: str) -> list[str]:
    """The event files of ``function``'s routes (REST API events), as paths."""
    routes = [route for route in samtemplate.api_routes(template) if route.function == function]
    return [
        str(ROOT / name)
        for name, event in event_files().items()
        if any(
            route.method == str(event.get("httpMethod", "")).upper() and route.path == event.get("resource")
            for route in routes
        )
    ]


def _run(handler: str, events: list[str], environment: dict[str, str]) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, handler, *events],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return request_lines(result.stdout)


def run_functions(template: dict, namespace: str) -> list[dict]:
    """EMF lines of every API function answering its routes' event files offline, and of the authorizer."""
    closed = f"mongodb://127.0.0.1:{loopback.free_port()}/"
    environment = {
        "STAGE": "local",
        "APP_NAME": namespace,
        "MONGODB_URI": closed,
        "MONGODB_TIMEOUT_MS": "100",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": "",
    }
    lines = []
    for name, resource in samtemplate.functions(template).items():
        events = events_of(template, name)
        if events:
            lines += _run(resource["Properties"]["Handler"], events, environment)
    try:
        _, authorizer = samtemplate.authorizer_function(template)
    except LookupError:
        return lines  # no Lambda authorizer: template.check says what is wrong with the API's
    events = sorted(
        str(path)
        for path in (ROOT / "events").glob("*.json")
        if json.loads(path.read_text(encoding="utf-8")).get("type") in ("TOKEN", "REQUEST")
    )
    configured = {**environment, "JWT_SECRET": secrets.token_hex(32), "JWT_ISSUER": "https://issuer.example/"}
    lines += _run(authorizer, events, configured)  # refused: the events' tokens are placeholders
    lines += _run(authorizer, events, {**environment, "STAGE": "prod"})  # failed: no key source in production
    return lines
