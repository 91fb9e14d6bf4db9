"""events/ against the declared routes: a REST API event for every route, each consistent with itself.

Every event file must be for a declared route, with ``path``,
``pathParameters`` and ``requestContext`` agreeing with each other. A route
without one gets the file to copy, the new file's name and the fields to set.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

from shared.router import compile_template
from tools.checks.declarations import ROOT, Declared, path_parameters

EVENTS = ROOT / "events"


def event_files(folder: Path = EVENTS) -> dict[str, dict]:
    """``{"events/...json": event}`` for every API Gateway proxy event file (authorizer events left out)."""
    found = {}
    for path in sorted(folder.rglob("*.json")):
        try:
            event = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            event = None  # make invoke names what is wrong with it
        if isinstance(event, dict) and event.get("type") not in ("TOKEN", "REQUEST") and "routeArn" not in event:
            found[str(path.relative_to(folder.parent))] = event
    return found


def event_route(event: dict) -> tuple[str, str, str]:
    """``(method, route path, request path)`` of a REST API (1.0) or HTTP API (2.0) proxy event."""
    if event.get("version") == "2.0":
        method, _, path = str(event.get("routeKey", "")).partition(" ")
        return method, path, str(event.get("rawPath", ""))
    return str(event.get("httpMethod", "")), str(event.get("resource", "")), str(event.get("path", ""))


def check_event(name: str, event: dict, declared: set[tuple[str, str]]) -> list[str]:
    """An event file is for a declared route, and its path, parameters and request context agree with it."""
    method, route_path, path = event_route(event)
    rest = event.get("version") != "2.0"
    fields = "its httpMethod and resource" if rest else "its routeKey"
    if (method, route_path) not in declared:
        return [f"{name} is an event for {method} {route_path} ({fields}), which no router declares: point it at a "
                f"declared route, or delete it"]
    matched = compile_template(route_path).match(path)
    if matched is None:
        return [f"{name}: its path {path!r} does not fit {route_path}: set {'path' if rest else 'rawPath'} to a "
                f"path that does"]
    problems = []
    parameters = {key: unquote(value) for key, value in matched.groupdict().items()} or None
    if event.get("pathParameters") != parameters:
        problems.append(f"{name}: its pathParameters are {json.dumps(event.get('pathParameters'))}, but its path "
                        f"{path} gives {json.dumps(parameters)}: set \"pathParameters\": {json.dumps(parameters)}")
    context = event.get("requestContext") or {}
    if rest:
        for key, want in (("httpMethod", method), ("resourcePath", route_path)):
            if key in context and context[key] != want:
                problems.append(f"{name}: requestContext.{key} is {context[key]!r}, but the event is for {want!r}: "
                                f"set it to {want!r}")
        if "path" in context and not str(context["path"]).endswith(path):
            problems.append(f"{name}: requestContext.path {context['path']!r} is not the stage and {path!r}: set it "
                            f"to \"/{context.get('stage', 'dev')}{path}\"")
    return problems


def _likeness(route: Declared, other: Declared, event: dict) -> tuple:
    """How little of an event for ``other`` changes for ``route``: same function, guard, method, no query, path."""
    shared_segments = 0
    for mine, theirs in zip(route.path.split("/"), other.path.split("/"), strict=False):
        if mine != theirs:
            break
        shared_segments += 1
    return (other.module == route.module, other.public == route.public, other.method == route.method,
            not event.get("queryStringParameters"), shared_segments)


def suggested_event_file(route: Declared, taken: set[str]) -> str:
    words = [part for part in route.path.strip("/").split("/") if part and not part.startswith("{")] or ["root"]
    base = "events/" + "-".join(words) + ("" if route.method == "GET" else f"-{route.method.lower()}")
    name, number = f"{base}.json", 2
    while name in taken:
        name, number = f"{base}-{number}.json", number + 1
    return name


def missing_event(route: Declared, routes: list[Declared], events: dict[str, dict]) -> str:
    """What to copy, where, and what to set in the copy, for a route without a REST API event."""
    problem = f"{route} has no REST API event in events/ (make invoke, the benchmark and the tests run each one)"
    by_key = {declared.key: declared for declared in routes}
    models = [(name, by_key[event_route(event)[:2]]) for name, event in events.items()
              if event.get("version") != "2.0" and event_route(event)[:2] in by_key]
    if not models:
        return f"{problem}: write one as API Gateway sends it to a Lambda proxy integration (payload format 1.0)"
    name, model = max(models, key=lambda pair: _likeness(route, pair[1], events[pair[0]]))  # first of equals
    event = events[name]
    values = event.get("pathParameters") or {}
    path = re.sub(r"{([^}]+)}", lambda found: values.get(found.group(1), "example"), route.path)
    parameters = {key: values.get(key, "example") for key in path_parameters(route.path)} or None
    stage = (event.get("requestContext") or {}).get("stage", "dev")
    fields = {"httpMethod": route.method, "resource": route.path, "path": path, "pathParameters": parameters,
              "requestContext": {"httpMethod": route.method, "resourcePath": route.path, "path": f"/{stage}{path}"}}
    if event.get("queryStringParameters"):
        fields.update(queryStringParameters=None, multiValueQueryStringParameters=None)
    if route.method in ("GET", "DELETE") and event.get("body") is not None:
        fields["body"] = None
    advice = ""
    if model.public and not route.public:
        advice = "; it needs a token too: copy the Authorization header and requestContext.authorizer of events/me.json"
    elif route.public and not model.public:
        advice = "; it needs no token: remove its Authorization header and requestContext.authorizer"
    return (f"{problem}: copy {name} ({model}) to {suggested_event_file(route, set(events))} and set in the copy "
            f"{json.dumps(fields)}{advice}")


def check_event_files(routes: list[Declared], events: dict[str, dict] | None = None) -> list[str]:
    """Every event file is consistent and for a declared route; every route has a REST API (1.0) event."""
    events = event_files() if events is None else events
    declared = {route.key for route in routes}
    found = [problem for name, event in events.items() for problem in check_event(name, event, declared)]
    covered = {event_route(event)[:2] for event in events.values() if event.get("version") != "2.0"}
    found += [missing_event(route, routes, events) for route in routes if route.key not in covered]
    return found
