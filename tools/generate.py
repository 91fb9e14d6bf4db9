"""``make generate``: what the declarations determine, written into openapi.yaml, events/ and the templates.

From each route a router declares (its method, path, ``public``, ``body``,
``params``, ``status`` and ``response``, see :mod:`tools.checks.declarations`):

- openapi.yaml: the operation (operationId, summary, path parameters, request
  body, the success answer and the problem answers the code can give, security)
  and a component schema per body and response Schema. It is merged into the
  file, never written over it: a person's prose (summary, description,
  examples, tags), any ``$ref`` a person chose, and every key the declarations
  do not determine (info, headers, extra answers, other components) stay as
  written; what the declarations determine (types, bounds, required fields,
  security, status codes) follows them. Operations no router declares are left
  for a person to remove (``make lint`` names them).
- events/ and events/v2/: for a route without an event, one REST API (1.0) and
  one HTTP API (2.0) event file, as API Gateway sends them for the local
  caller alice: the path ids from the param Field's ``example``, and the body
  of ``Schema.example()`` with its content type when the route takes one.
  Existing event files are never rewritten.
- template.yaml: each handler module's function, its version parameter, its events and its rollback
  alarms, from one skeleton (:mod:`tools.template_functions`); the function of a module that is gone is
  removed. Then the Dashboard body, from the functions and routes (:mod:`tools.checks.dashboard`), and
  the HTTP API templates derived from template.yaml (:mod:`tools.httpapi`).

``make lint`` names this command when a file is behind, and checks what it wrote.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlencode

import yaml

from tools import cli, httpapi, template_functions
from tools.checks import dashboard, imports, snippets
from tools.checks.declarations import ROOT, DeclarationError, Declared, camel, declared_routes, path_parameters
from tools.events import event_files, event_route

OPENAPI = ROOT / "openapi.yaml"
EVENTS = ROOT / "events"
COMMAND = "make generate"
PLACEHOLDER = "example"  # a path id for a parameter declared without a Field (lint asks for one)
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# What a person writes: kept as written once present (the declaration only fills it in when missing).
PROSE = {"summary", "description", "operationId", "example", "examples", "tags", "externalDocs", "deprecated", "title"}
# Mappings whose keys are names (of paths, fields, answers, media types), not keywords.
NAMED = {
    "paths",
    "properties",
    "responses",
    "content",
    "headers",
    "schemas",
    "parameters",
    "securitySchemes",
    "variables",
    "patternProperties",
    "requestBodies",
}
# The answers the code gives but its success, by status: the component they refer to, when openapi.yaml has it
# (any other status refers to Problem).
ANSWERS = {
    "304": "NotModified",
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "412": "PreconditionFailed",
    "503": "ServiceUnavailable",
}
TITLES = {
    "304": "Not Modified",
    "400": "Bad Request",
    "401": "Unauthorized",
    "403": "Forbidden",
    "413": "Content Too Large",
    "415": "Unsupported Media Type",
    "412": "Precondition Failed",
    "503": "Service Unavailable",
}
READS = ("GET", "HEAD")  # a conditional read answers If-None-Match; a conditional write If-Match
CONDITION_HEADERS = {
    True: (
        "If-None-Match",
        "IfNoneMatch",
        "ETags from earlier answers, or `*`: 304 when one matches the current revision (weak comparison).",
    ),
    False: (
        "If-Match",
        "IfMatch",
        "An ETag from an earlier answer, or `*`: the write happens only "
        "at that revision (strong comparison), else 412.",
    ),
}


# openapi.yaml


def for_openapi_31(schema):
    """A Schema's OpenAPI 3.0 ``nullable: true`` written as 3.1 says it: ``type: [..., "null"]``."""
    if isinstance(schema, list):
        return [for_openapi_31(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: for_openapi_31(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable"):
        kind = result.get("type")
        if isinstance(kind, str):
            result["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            result["type"] = [*kind, "null"]
        elif kind is None and "enum" not in result:
            result = {"oneOf": [result, {"type": "null"}]}
        if "enum" in result and None not in result["enum"]:
            result["enum"] = [*result["enum"], None]
    return result


def schema_ref(schema) -> dict:
    return {"$ref": f"#/components/schemas/{schema.name}"}


def uses_database(module: str) -> bool:
    try:
        return "shared.db" in imports.closure(module).modules
    except imports.ImportAnalysisError:
        return True


def path_level_parameters(description: dict, path: str) -> set[str]:
    """The names of the path parameters described once for every operation of ``path``."""
    item = description.get("paths", {}).get(path) or {}
    return {
        parameter.get("name")
        for parameter in resolved_parameters(description, item.get("parameters", []))
        if parameter.get("in") == "path"
    }


def resolved_parameters(description: dict, parameters: list) -> list[dict]:
    """``parameters`` with each ``$ref`` to ``components.parameters`` replaced by what it names."""
    found = []
    for parameter in parameters or []:
        if isinstance(parameter, dict) and "$ref" in parameter:
            name = str(parameter["$ref"]).rpartition("/")[2]
            parameter = description.get("components", {}).get("parameters", {}).get(name, {})
        if isinstance(parameter, dict):
            found.append(parameter)
    return found


def described_parameter(description: dict, name: str) -> dict:
    """The first description of path parameter ``name`` in the document, else a plain string one."""
    for item in description.get("paths", {}).values():
        operations = [item] + [item[method] for method in METHODS if isinstance(item.get(method), dict)]
        for operation in operations:
            for parameter in resolved_parameters(description, operation.get("parameters", [])):
                if parameter.get("in") == "path" and parameter.get("name") == name:
                    return copy.deepcopy(parameter)
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def path_parameter(route: Declared, name: str, description: dict) -> dict:
    field = (route.params or {}).get(name)
    if field is None:
        return described_parameter(description, name)
    parameter = {"name": name, "in": "path", "required": True}
    schema = for_openapi_31(field.json_schema())
    if schema.get("description"):
        parameter["description"] = schema.pop("description")  # said once, on the parameter
    parameter["schema"] = schema
    return parameter


def query_parameter(name: str, field) -> dict:
    """The OpenAPI query parameter a ``query=`` Field declares (a List: every occurrence, ``?a=1&a=2``)."""
    parameter = {"name": name, "in": "query", "required": bool(field.required)}
    schema = for_openapi_31(field.json_schema())
    if schema.get("description"):
        parameter["description"] = schema.pop("description")
    parameter["schema"] = schema
    return parameter


def condition_header(route: Declared, description: dict) -> dict:
    """The If-None-Match (reads) or If-Match (writes) header parameter of a conditional route."""
    name, component, text = CONDITION_HEADERS[route.method in READS]
    if component in description.get("components", {}).get("parameters", {}):
        return {"$ref": f"#/components/parameters/{component}"}
    return {"name": name, "in": "header", "required": False, "description": text, "schema": {"type": "string"}}


def answered_statuses(route: Declared) -> dict[str, str]:
    """Every status but the success one that ``route`` can answer, from what it declares: ``{status: title}``.

    A body: 400, 413, 415; checked path or query parameters: 400; not public: 401 (and API Gateway's 403);
    conditional: 304 (reads) or 412 (writes); each class of ``errors``; the database: 503.
    """
    statuses = {}
    if route.body is not None or route.params or route.query:
        statuses["400"] = TITLES["400"]
    if not route.public:
        statuses.update({"401": TITLES["401"], "403": TITLES["403"]})
    if route.conditional:
        status = "304" if route.method in READS else "412"
        statuses[status] = TITLES[status]
    if route.body is not None:
        statuses.update({"413": TITLES["413"], "415": TITLES["415"]})
    for error in route.errors:
        statuses.setdefault(str(error.status), error.title)
    if uses_database(route.module):
        statuses["503"] = TITLES["503"]
    return dict(sorted(statuses.items()))


def operation(route: Declared, description: dict) -> dict:
    """The OpenAPI operation that ``route``'s declaration determines."""
    known = description.get("components", {}).get("responses", {})

    def answer(status: str, title: str) -> dict:
        name = ANSWERS.get(status, "Problem")
        return {"$ref": f"#/components/responses/{name}"} if name in known else {"description": title}

    success: dict = {"description": route.summary}
    if route.success == 201:
        success["headers"] = {
            "Location": {"description": "The path of what was created.", "required": True, "schema": {"type": "string"}}
        }
    if route.conditional and route.success not in (204, 304):
        success.setdefault("headers", {})["ETag"] = {
            "description": "The revision of what is shown.",
            "required": True,
            "schema": {"type": "string"},
        }
    if route.success not in (204, 304):
        schema = schema_ref(route.response) if route.response is not None else {"type": "object"}
        success["content"] = {"application/json": {"schema": schema}}
    on_path = path_level_parameters(description, route.path)
    parameters = [
        path_parameter(route, name, description) for name in path_parameters(route.path) if name not in on_path
    ]
    parameters += [query_parameter(name, field) for name, field in (route.query or {}).items()]
    if route.conditional:
        parameters.append(condition_header(route, description))
    takes_body = route.body is not None
    words = route.endpoint.split("_")
    result: dict = {"operationId": words[0] + camel("_".join(words[1:])), "summary": route.summary}
    if parameters:
        result["parameters"] = parameters
    if takes_body:
        result["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema_ref(route.body)}}}
    result["responses"] = {
        str(route.success): success,
        **{status: answer(status, title) for status, title in answered_statuses(route).items()},
    }
    if route.public:
        result["security"] = []
    return result


def schemas(routes: list[Declared]) -> dict[str, dict]:
    """``{name: OpenAPI schema}`` for every body and response Schema the routes declare."""
    found = {}
    for route in routes:
        for schema in (route.body, route.response):
            if schema is not None:
                found[schema.name] = for_openapi_31(schema.json_schema())
    return found


def _key(parameter) -> tuple:
    return (parameter.get("in"), parameter.get("name")) if isinstance(parameter, dict) else (None, None)


def merged(mine, derived, names: bool = False, parent: str = "", description: dict | None = None, exact: bool = False):
    """``derived`` merged into what a person wrote (``mine``), as the module docstring says.

    ``names`` is true for a mapping whose keys are names (``parent`` is its key), where no key is prose.
    ``exact`` is true inside a schema a Schema determines: only its prose is kept beside what it declares.
    """
    if mine is None:
        return copy.deepcopy(derived)
    if (
        not exact
        and isinstance(mine, dict)
        and "$ref" in mine
        and not (isinstance(derived, dict) and "$ref" in derived)
    ):
        return mine
    if isinstance(mine, dict) and isinstance(derived, dict):
        if exact and not names:
            mine = {key: value for key, value in mine.items() if key in derived or _is_prose(key)}
        result = dict(mine)
        for key, value in derived.items():
            if not names and _is_prose(key) and key in mine:
                continue
            inner = exact or (names and parent in ("properties", "schemas"))
            result[key] = merged(mine.get(key), value, not names and key in NAMED, key, description, inner)
        if names and parent == "properties":
            result = {key: value for key, value in result.items() if key in derived}
        return result
    if (
        isinstance(mine, list)
        and isinstance(derived, list)
        and derived
        and all(isinstance(item, dict) and ("in" in item or "$ref" in item) for item in derived)
    ):
        return merged_parameters(mine, derived, description or {})
    return copy.deepcopy(derived)


def _is_prose(key: str) -> bool:
    return key in PROSE or key.startswith("x-")


def merged_parameters(mine: list, derived: list[dict], description: dict) -> list:
    """Parameters matched by ``(in, name)``; a person's own (headers, queries, ``$ref``s) stay where they are."""
    keys = [_key((resolved_parameters(description, [item]) or [{}])[0]) for item in mine]
    result = list(mine)
    for parameter in derived:
        key = _key((resolved_parameters(description, [parameter]) or [{}])[0])
        if key in keys:
            index = keys.index(key)
            result[index] = merged(mine[index], parameter, description=description)
        else:
            result.append(copy.deepcopy(parameter))
    return result


def without_undeclared(paths: dict, routes: list[Declared]) -> None:
    """Remove from ``paths`` the operations no route declares, and the paths left with none (a removed module's)."""
    declared = {(route.path, route.method.lower()) for route in routes}
    for path, item in list(paths.items()):
        for method in [key for key in item if key in METHODS and (path, key) not in declared]:
            del item[method]
        if not any(key in METHODS for key in item):
            del paths[path]


def derived_document(routes: list[Declared], description: dict) -> dict:
    """``description`` with what ``routes`` determine merged in, and without the operations no route declares."""
    document = copy.deepcopy(description)
    paths = document.setdefault("paths", {})
    without_undeclared(paths, routes)
    for route in routes:
        item = paths.setdefault(route.path, {})
        method = route.method.lower()
        wanted_operation = operation(route, document)
        if "requestBody" in wanted_operation:  # every JSON media type a person lists takes the same Schema
            content = wanted_operation["requestBody"]["content"]
            for media in ((item.get(method) or {}).get("requestBody") or {}).get("content", {}):
                if media.endswith(("/json", "+json")):
                    content[media] = copy.deepcopy(content["application/json"])
        item[method] = merged(item.get(method), wanted_operation, description=document)
        if not route.public and item[method].get("security") == []:
            del item[method]["security"]
    wanted = schemas(routes)
    if wanted:
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in wanted.items():
            components[name] = merged(components.get(name), schema, description=document)
    return document


def spaced(text: str) -> str:
    """A blank line before each top-level section, path and component schema, as the file is written by hand."""
    out, section, part = [], "", ""
    for line in text.splitlines():
        if re.match(r"[A-Za-z]", line):
            section, part = line.split(":")[0], ""
            gap = section != "info"
        elif re.match(r"  \S", line):
            part = line.strip().split(":")[0]
            gap = section in ("paths", "components")
        else:
            gap = bool(re.match(r"    \S", line)) and (section, part) == ("components", "schemas")
        if out and gap and out[-1] != "" and not re.fullmatch(r" *[^ :][^:]*:", out[-1]):
            out.append("")
        out.append(line)
    return "\n".join(out) + "\n"


class _Dumper(snippets._Dumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)  # "  - url: ..." under its key, as the file is written

    def choose_scalar_style(self) -> str:
        style = super().choose_scalar_style()
        return '"' if style == "'" else style  # "200", "#/components/...", as the file quotes them


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    """A short list of plain values in flow style (``required: [id, name]``), any other as a block."""
    flow = all(isinstance(item, str | int | float | bool) or item is None for item in data) and len(str(data)) < 80
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def openapi_text(document: dict) -> str:
    """``document`` as openapi.yaml is written: block style, keys in their order, lists indented."""
    text = yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=105, allow_unicode=True)
    return spaced(text)


def write_openapi(routes: list[Declared], path: Path = OPENAPI) -> bool:
    """Merge the routes into openapi.yaml; True when it changed (it is left alone when it agrees)."""
    description = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    document = derived_document(routes, description)
    if document == description:
        return False
    path.write_text(openapi_text(document), encoding="utf-8")
    return True


# events/

HOST = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
TRACE = "Root=1-6745a0e1-3c5d2f0a1b7e4c9d8f6a2b1c"
CALLER = {"sub": "alice", "email": "alice@example.com", "name": "Alice Liddell", "scope": "profile:read profile:write"}
TIME, EPOCH = "26/Nov/2026:09:12:01 +0000", 1795597921000


def event_name(route: Declared) -> str:
    """``events/notes.json`` (GET /notes), ``notes-post.json``, ``note.json`` (GET /notes/{note_id}), ...

    A literal segment followed by a parameter counts once, by the parameter's name without ``_id``.
    """
    segments = [part for part in route.path.strip("/").split("/") if part]
    words = []
    for index, part in enumerate(segments):
        following = segments[index + 1] if index + 1 < len(segments) else ""
        if part.startswith("{"):
            words.append(part.strip("{}").removesuffix("_id"))
        elif not following.startswith("{"):
            words.append(part)
    base = "-".join(words or ["root"]) + ("" if route.method == "GET" else f"-{route.method.lower()}")
    return f"{base}.json"


def field_example(field):
    """The Field's example value, or None when there is no Field or it has none."""
    try:
        return field.example() if field is not None else None
    except ValueError:
        return None


def as_text(value) -> str:
    """The text a path or query parameter sends for ``value``: ``0``, ``9.5``, ``true``, ``open``."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def example_path(route: Declared) -> tuple[str, dict[str, str] | None]:
    """The route's path with each parameter its Field's example (else ``example``), and those parameters."""
    values = {}
    for name in path_parameters(route.path):
        field = (route.params or {}).get(name)
        example = field_example(field)
        values[name] = PLACEHOLDER if example is None else as_text(example)
    path = re.sub(r"{([^}]+)}", lambda found: values[found.group(1)], route.path)
    return path, values or None


def query_text(value) -> str:
    """A query parameter's text for ``value``, as :meth:`shared.schema.Field.from_text` reads it back."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def example_query(route: Declared) -> dict[str, list[str]]:
    """Every value of each required query parameter, from its Field's example (a List: each item)."""
    found = {}
    for name, field in (route.query or {}).items():
        if field.required:
            value = field.example()
            found[name] = [query_text(item) for item in value] if isinstance(value, list) else [query_text(value)]
    return found


def example_body(route: Declared) -> str | None:
    return json.dumps(route.body.example()) if route.body is not None else None


def rest_event(route: Declared) -> dict:
    """A REST API (payload 1.0) proxy event for ``route``, as API Gateway sends it for alice."""
    path, parameters = example_path(route)
    body = example_body(route)
    headers = {
        "Accept": "application/json",
        "Accept-Encoding": "gzip, deflate, br",
        "Host": HOST,
        "User-Agent": "curl/8.5.0",
        "X-Amzn-Trace-Id": TRACE,
        "X-Forwarded-For": "203.0.113.10",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    if not route.public:
        headers["Authorization"] = "Bearer {{LOCAL_TOKEN}}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    context = {
        "resourceId": "abc123",
        "resourcePath": route.path,
        "httpMethod": route.method,
        "extendedRequestId": "Bz1mXGjkDoEFd5Q=",
        "requestTime": TIME,
        "path": f"/dev{path}",
        "accountId": "123456789012",
        "protocol": "HTTP/1.1",
        "stage": "dev",
        "domainPrefix": "a1b2c3d4e5",
        "requestTimeEpoch": EPOCH,
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "identity": {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "sourceIp": "203.0.113.10",
            "principalOrgId": None,
            "accessKey": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": "curl/8.5.0",
            "user": None,
        },
        "domainName": HOST,
        "apiId": "a1b2c3d4e5",
    }
    if not route.public:
        context["authorizer"] = {"principalId": CALLER["sub"], **CALLER, "integrationLatency": 41}
    query = example_query(route)
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": route.method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": parameters,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": False,
    }


def http_event(route: Declared) -> dict:
    """The HTTP API (payload 2.0) event for ``route`` that matches :func:`rest_event`."""
    path, parameters = example_path(route)
    body = example_body(route)
    headers = {
        "accept": "application/json",
        "accept-encoding": "gzip, deflate, br",
        "content-length": str(len((body or "").encode())),
        "host": HOST,
        "user-agent": "curl/8.5.0",
        "x-amzn-trace-id": TRACE,
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if not route.public:
        headers["authorization"] = "Bearer {{LOCAL_TOKEN}}"
    if body is not None:
        headers["content-type"] = "application/json"
    key = f"{route.method} {route.path}"
    context = {
        "accountId": "123456789012",
        "apiId": "a1b2c3d4e5",
        "domainName": HOST,
        "domainPrefix": "a1b2c3d4e5",
        "http": {
            "method": route.method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.10",
            "userAgent": "curl/8.5.0",
        },
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": key,
        "stage": "$default",
        "time": TIME,
        "timeEpoch": EPOCH,
    }
    if not route.public:
        context["authorizer"] = {"lambda": dict(CALLER)}
    query = example_query(route)
    event = {
        "version": "2.0",
        "routeKey": key,
        "rawPath": path,
        "rawQueryString": urlencode([(name, value) for name, values in query.items() for value in values]),
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = {name: ",".join(values) for name, values in query.items()}
    if parameters:
        event["pathParameters"] = parameters
    if body is not None:
        event["body"] = body
    return event


def event_routes(folder: Path) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """The ``(method, path)`` routes events/ already has a REST API event and an HTTP API event for."""
    rest, http = set(), set()
    for event in event_files(folder).values():
        (http if event.get("version") == "2.0" else rest).add(event_route(event)[:2])
    return rest, http


def missing_events(routes: list[Declared], folder: Path = EVENTS) -> dict[Path, tuple[Declared, dict]]:
    """``{file: (route, event)}`` for each route without a REST API event, and each without an HTTP API one."""
    rest, http = event_routes(folder)
    found: dict[Path, tuple[Declared, dict]] = {}
    for route in routes:
        for covered, where, make in ((rest, folder, rest_event), (http, folder / "v2", http_event)):
            if route.key in covered:
                continue
            name, number = event_name(route), 2
            while (where / name).exists() or where / name in found:
                name, number = f"{event_name(route).removesuffix('.json')}-{number}.json", number + 1
            found[where / name] = route, make(route)
    return found


def event_text(event: dict) -> str:
    return json.dumps(event, indent=2, ensure_ascii=False) + "\n"


def write_events(routes: list[Declared], folder: Path = EVENTS) -> list[Path]:
    """Write the missing event files; the files written."""
    written = []
    for path, (_, event) in missing_events(routes, folder).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(event_text(event), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(
        prog=COMMAND,
        description="Write what the route declarations determine into openapi.yaml "
        "and events/ (merged: what a person wrote stays).",
    )
    parser.parse_args(argv)
    try:
        routes = declared_routes()
    except DeclarationError as exc:
        print(exc, file=sys.stderr)
        return 1
    changed = ["openapi.yaml"] if write_openapi(routes) else []
    changed += ["template.yaml (the functions)"] if template_functions.write(routes) else []
    changed += [str(path.relative_to(ROOT)) for path in write_events(routes)]
    with contextlib.suppress(LookupError):  # no dashboard in the template: make lint says how to add one
        changed += ["template.yaml (the Dashboard's body)"] if dashboard.write() else []
    try:
        changed += [path.name for path in httpapi.write()]
    except httpapi.DerivationError as exc:
        print(f"make generate: template.yaml: cannot derive the HTTP API templates: {exc}", file=sys.stderr)
        return 1
    for name in changed:
        print(f"wrote {name}")
    if not changed:
        print(
            "openapi.yaml, events/, template.yaml's functions, the dashboard and the HTTP API templates already "
            "agree with the declarations"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
