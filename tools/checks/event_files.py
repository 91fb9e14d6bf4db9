"""events/ against the declared routes: a REST API and an HTTP API event for every route, each one working.

Every event file must be for a declared route, with ``path``,
``pathParameters`` and ``requestContext`` agreeing with each other, path ids
that pass the route's param checks and, for a route that takes a body, a body
its Schema accepts with a JSON content type. ``make generate`` writes the
events a route lacks.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

from shared import errors
from shared.request import Request
from shared.router import checked_query, compile_template
from tools.checks.declarations import Declared
from tools.events import EVENTS, event_files, event_route  # noqa: F401 -- read here too
from tools.generate import COMMAND, PLACEHOLDER, as_text, event_name, field_example


def check_event(name: str, event: dict, declared: set[tuple[str, str]]) -> list[str]:
    """An event file is for a declared route, and its path, parameters and request context agree with it."""
    method, route_path, path = event_route(event)
    rest = event.get("version") != "2.0"
    fields = "its httpMethod and resource" if rest else "its routeKey"
    if (method, route_path) not in declared:
        return [
            f"{name} is an event for {method} {route_path} ({fields}), which no router declares: point it at a "
            f"declared route, or delete it"
        ]
    matched = compile_template(route_path).match(path)
    if matched is None:
        return [
            f"{name}: its path {path!r} does not fit {route_path}: set {'path' if rest else 'rawPath'} to a "
            f"path that does"
        ]
    problems = []
    parameters = {key: unquote(value) for key, value in matched.groupdict().items()} or None
    if event.get("pathParameters") != parameters:
        problems.append(
            f"{name}: its pathParameters are {json.dumps(event.get('pathParameters'))}, but its path "
            f'{path} gives {json.dumps(parameters)}: set "pathParameters": {json.dumps(parameters)}'
        )
    context = event.get("requestContext") or {}
    if rest:
        for key, want in (("httpMethod", method), ("resourcePath", route_path)):
            if key in context and context[key] != want:
                problems.append(
                    f"{name}: requestContext.{key} is {context[key]!r}, but the event is for {want!r}: "
                    f"set it to {want!r}"
                )
        if "path" in context and not str(context["path"]).endswith(path):
            problems.append(
                f"{name}: requestContext.path {context['path']!r} is not the stage and {path!r}: set it "
                f'to "/{context.get("stage", "dev")}{path}"'
            )
    return problems


def check_example_values(name: str, event: dict, route: Declared) -> list[str]:
    """The event's path ids pass the route's param checks, its query the route's query checks, and its body the
    route's body Schema."""
    problems = []
    for key, value in (event.get("pathParameters") or {}).items():
        if value == PLACEHOLDER and key not in (route.params or {}):
            problems.append(
                f"{name}: its {key} is the placeholder {PLACEHOLDER!r}, which names nothing: declare "
                f"params={{{key!r}: String(..., example=<a real id>)}} on {route}, then delete the file "
                f"and run {COMMAND}; or set a real id in it"
            )
    for key, field in (route.params or {}).items():
        value = (event.get("pathParameters") or {}).get(key)
        try:
            field.from_text(value)  # as the router reads it
        except Exception as exc:  # the Field's own FieldError: its message says why
            example = field_example(field)
            fix = "declare an example= on it" if example is None else f"use the Field's example {as_text(example)!r}"
            problems.append(f"{name}: its {key} {value!r} fails the route's check ({exc}): {fix}")
    if route.query:
        try:
            checked_query(route.query, Request(event).query_lists)
        except errors.HTTPError as exc:
            problems.append(
                f"{name}: its query fails the route's check ({exc.detail}): set it as API Gateway passes "
                f"a valid one, or delete the file and run {COMMAND}"
            )
    if route.body is not None:
        body = event.get("body")
        try:
            route.body.validate(json.loads(body) if isinstance(body, str) else body)
        except Exception as exc:
            problems.append(
                f"{name}: its body does not fit the Schema {route.body.name} of {route} ({exc}): "
                f'set "body" to {json.dumps(json.dumps(route.body.example()))}'
            )
        headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
        if "json" not in str(headers.get("content-type", "")):
            problems.append(
                f"{name}: {route} takes a JSON body, but the event has no JSON Content-Type: add "
                f'"Content-Type": "application/json" to its headers'
            )
    return problems


def check_event_files(routes: list[Declared], events: dict[str, dict] | None = None) -> list[str]:
    """Every event file is consistent and for a declared route; every route has a REST API and an HTTP API event."""
    events = event_files() if events is None else events
    declared = {route.key: route for route in routes}
    found = []
    for name, event in events.items():
        problems = check_event(name, event, set(declared))
        found += problems or check_example_values(name, event, declared[event_route(event)[:2]])
    for route in routes:
        lacking = [
            (kind, f"{folder}{event_name(route)}")
            for kind, folder, v2 in (("REST API (1.0)", "events/", False), ("HTTP API (2.0)", "events/v2/", True))
            if not any(
                event_route(event)[:2] == route.key and (event.get("version") == "2.0") == v2
                for event in events.values()
            )
        ]
        if lacking:
            found.append(
                f"{route} has no {' and no '.join(kind for kind, _ in lacking)} event (make invoke, the "
                f"benchmark and the tests run each one): run {COMMAND} (it writes "
                f"{', '.join(name for _, name in lacking)})"
            )
    return found
