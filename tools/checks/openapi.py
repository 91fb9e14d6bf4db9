"""openapi.yaml against the declared routes: one operation per route, guarded as declared.

``security: []`` exactly on the public routes, and every path parameter
described. A missing operation comes with the block to paste: its
operationId, summary, path parameters and the answers the code can give.
"""

from __future__ import annotations

import copy

import yaml

from tools.checks import imports
from tools.checks.declarations import ROOT, Declared, camel, path_parameters
from tools.checks.snippets import addition

OPENAPI = ROOT / "openapi.yaml"
OPENAPI_FILE = "openapi.yaml"

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def documented(description: dict) -> dict[tuple[str, str], dict]:
    """Each operation of an OpenAPI description by ``(METHOD, path)``."""
    return {(method.upper(), path): operation for path, item in description.get("paths", {}).items()
            for method, operation in item.items() if method in METHODS}


def described_parameter(description: dict, name: str) -> dict:
    """The first description of path parameter ``name`` in the document, else a plain string one."""
    for operation in documented(description).values():
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "path" and parameter.get("name") == name:
                return copy.deepcopy(parameter)
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def uses_database(module: str) -> bool:
    try:
        return "shared.db" in imports.closure(module).modules
    except imports.ImportAnalysisError:
        return True


def operation(route: Declared, description: dict) -> dict:
    """An OpenAPI operation for ``route``: its parameters and the answers the project's code can give."""
    known = description.get("components", {}).get("responses", {})

    def answer(name: str) -> dict:
        return {"$ref": f"#/components/responses/{name}"} if name in known else {"description": name}

    success = {"description": route.summary}
    if route.method != "DELETE":
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    responses = {"204" if route.method == "DELETE" else "200": success}
    parameters = [described_parameter(description, name) for name in path_parameters(route.path)]
    if parameters or route.method in ("POST", "PUT", "PATCH"):
        responses["400"] = answer("BadRequest")
    if not route.public:
        responses.update({"401": answer("Unauthorized"), "403": answer("Forbidden")})
    if parameters:
        responses["404"] = answer("Problem")
    if uses_database(route.module):
        responses["503"] = answer("ServiceUnavailable")
    result = {"operationId": route.endpoint.split("_")[0] + camel("_".join(route.endpoint.split("_")[1:])),
              "summary": route.summary}
    if parameters:
        result["parameters"] = parameters
    result["responses"] = responses
    if route.public:
        result["security"] = []
    return result


def check_operation(route: Declared, found: dict, description: dict) -> list[str]:
    """The operation's guard and path parameters against the route's declaration."""
    problems = []
    where = f"paths.{route.path}.{route.method.lower()}"
    guarded = bool(found.get("security", description.get("security", [])))
    if route.public and guarded:
        problems.append(f"{OPENAPI_FILE} says {route} needs a token, but its router declares it public: set "
                        f"security: [] on {where}")
    if not route.public and not guarded:
        problems.append(f"{OPENAPI_FILE} says {route} needs no token, but its router does not declare it public: "
                        f"remove security from {where} (or declare the route with public=True)")
    described = [parameter.get("name") for parameter in found.get("parameters", []) if parameter.get("in") == "path"]
    missing = [described_parameter(description, name) for name in path_parameters(route.path)
               if name not in described]
    keys = ["paths", route.path, route.method.lower()]
    if missing and "parameters" in found:
        problems.append(addition(f"{OPENAPI_FILE} does not describe the path parameters of {route}", OPENAPI_FILE,
                                 [*keys, "parameters"], missing))
    elif missing:
        problems.append(addition(f"{OPENAPI_FILE} does not describe the path parameters of {route}", OPENAPI_FILE,
                                 keys, {"parameters": missing}))
    for name in described:
        if name not in path_parameters(route.path):
            problems.append(f"{OPENAPI_FILE} describes a path parameter {name} on {route}, whose path has none of "
                            f"that name: remove it from {where}.parameters")
    return problems


def check_openapi(routes: list[Declared], description: dict | None = None) -> list[str]:
    """openapi.yaml has exactly the declared routes, each guarded as declared, path parameters described."""
    if description is None:
        try:
            description = yaml.safe_load(OPENAPI.read_text())
        except (OSError, yaml.YAMLError) as exc:
            return [f"{OPENAPI_FILE} cannot be read as YAML ({exc}): fix it, then run the checks again"]
    operations = documented(description)
    found = []
    for route in routes:
        if route.key in operations:
            found += check_operation(route, operations[route.key], description)
        elif route.path in description.get("paths", {}):
            found.append(addition(f"{OPENAPI_FILE} does not describe {route}", OPENAPI_FILE, ["paths", route.path],
                                  {route.method.lower(): operation(route, description)}))
        else:
            found.append(addition(f"{OPENAPI_FILE} does not describe {route}", OPENAPI_FILE, ["paths"],
                                  {route.path: {route.method.lower(): operation(route, description)}}))
    declared = {route.key for route in routes}
    for method, path in operations:
        if (method, path) not in declared:
            found.append(f"{OPENAPI_FILE} describes {method} {path}, which no router declares: remove "
                         f"paths.{path}.{method.lower()}, or declare the route")
    return found
