"""openapi.yaml against the declared routes: what the declarations determine is there, as they say.

``make generate`` (:mod:`tools.generate`) writes the derived parts; this check names
it when the file is behind: an operation missing, or one whose security, path
parameters, request body or answers differ from its route's declaration, or a
component schema that differs from its Schema. It also refuses duplicate keys
(YAML would keep only the last) and operations no router declares.
"""

from __future__ import annotations

import yaml

from tools import generate
from tools.checks import yamlkeys
from tools.checks.declarations import ROOT, Declared

OPENAPI = ROOT / "openapi.yaml"
OPENAPI_FILE = "openapi.yaml"

METHODS = generate.METHODS


def documented(description: dict) -> dict[tuple[str, str], dict]:
    """Each operation of an OpenAPI description by ``(METHOD, path)``."""
    return {
        (method.upper(), path): operation
        for path, item in description.get("paths", {}).items()
        for method, operation in item.items()
        if method in METHODS
    }


def check_operations(routes: list[Declared], description: dict) -> list[str]:
    """One line per operation or component schema that is not what the declarations determine."""
    wanted = generate.derived_document(routes, description)
    operations, derived = documented(description), documented(wanted)
    found = []
    for route in routes:
        where = f"paths.{route.path}.{route.method.lower()}"
        if route.key not in operations:
            found.append(
                f"{OPENAPI_FILE} does not describe {route}: run {generate.COMMAND} (it writes {where} "
                f"from the declaration)"
            )
            continue
        current, want = operations[route.key], derived[route.key]
        keys = [
            key for key in [*current, *(key for key in want if key not in current)] if current.get(key) != want.get(key)
        ]
        if keys:
            found.append(
                f"{OPENAPI_FILE}: {where} differs from the declaration of {route} in {', '.join(keys)}: "
                f"run {generate.COMMAND}"
            )
    current_schemas = description.get("components", {}).get("schemas", {})
    for name, schema in wanted.get("components", {}).get("schemas", {}).items():
        if current_schemas.get(name) != schema:
            state = "differs from" if name in current_schemas else "lacks"
            found.append(
                f"{OPENAPI_FILE}: components.schemas.{name} {state} the Schema {name} the routes declare: "
                f"run {generate.COMMAND}"
            )
    return found


def check_openapi(routes: list[Declared], description: dict | None = None) -> list[str]:
    """openapi.yaml has exactly the declared routes, each as its declaration determines, and no key twice."""
    found = []
    if description is None:
        found = yamlkeys.check_file(OPENAPI)
        try:
            description = yaml.safe_load(OPENAPI.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            return [f"{OPENAPI_FILE} cannot be read as YAML ({exc}): fix it, then run the checks again"]
    found += check_operations(routes, description)
    declared = {route.key for route in routes}
    for method, path in documented(description):
        if (method, path) not in declared:
            found.append(
                f"{OPENAPI_FILE} describes {method} {path}, which no router declares: remove "
                f"paths.{path}.{method.lower()}, or declare the route"
            )
    return found
