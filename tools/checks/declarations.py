"""One declaration per route: what the routers of ``handlers/`` declare, read for the checks.

A route is declared once, where it is served: ``@router.get("/users/{user_id}")``
in its handler module, with ``public=True`` when it needs no token. The template's
``Handler`` (``handlers.users.lambda_handler``) maps the module to its function.
:mod:`tools.checks.routes` checks the template against the declarations,
:mod:`tools.checks.openapi` the OpenAPI description, :mod:`tools.checks.event_files`
the event files; each problem says what to add, where, with the block to paste.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.router import DEFAULT_STATUS, check_template
from tools import samtemplate
from tools.checks import usage

ROOT = Path(__file__).resolve().parent.parent.parent
HANDLERS = ROOT / "handlers"
PREFLIGHT = "OPTIONS"


@dataclass(frozen=True)
class Declared:
    """One route as its router declares it."""

    method: str
    path: str
    public: bool
    module: str  # the handler module, such as handlers.users
    endpoint: str  # the endpoint's name, such as read_user
    summary: str = ""  # the first line of the endpoint's docstring
    body: Any = None  # the Schema the request body must fit (shared.schema), if the route takes one
    params: Any = None  # {"note_id": Field} for the path parameters the router checks
    status: int | None = None  # the success status; None: 201 for POST, 204 for DELETE, 200 otherwise
    response: Any = None  # the Schema of the success body, if declared
    query: Any = None  # {"limit": Field} for the query parameters the router checks
    errors: tuple = ()  # the shared.errors classes the endpoint raises (NotFound, Conflict, ...)
    conditional: bool = False  # the endpoint answers If-None-Match (GET: 304) or If-Match (writes: 412)

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def success(self) -> int:
        """The status the route answers when all goes well."""
        return self.status or DEFAULT_STATUS.get(self.method, 200)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class DeclarationError(Exception):
    """A handler module cannot be imported, so its routes cannot be read."""


def declared_routes(folder: Path = HANDLERS) -> list[Declared]:
    """Every route the routers of ``handlers/`` declare, module by module, in declaration order."""
    found = []
    for path in sorted(folder.glob("[!_]*.py")):
        try:
            module = importlib.import_module(f"handlers.{path.stem}")
        except Exception as exc:
            if isinstance(exc, ValueError) and "route" in str(exc):  # the router refused a malformed template
                raise DeclarationError(f"handlers/{path.name}: {exc}") from None
            raise DeclarationError(
                f"handlers/{path.name} does not import ({type(exc).__name__}: {exc}), so its "
                f"routes cannot be checked: fix it, then run the checks again"
            ) from None
        for route in getattr(getattr(module, "router", None), "routes", []):
            summary = (route.endpoint.__doc__ or route.endpoint.__name__.replace("_", " ")).strip().splitlines()[0]
            found.append(
                Declared(
                    route.method,
                    route.template,
                    route.public,
                    module.__name__,
                    route.endpoint.__name__,
                    summary,
                    getattr(route, "body", None),
                    getattr(route, "params", None),
                    getattr(route, "status", None),
                    getattr(route, "response", None),
                    getattr(route, "query", None),
                    tuple(dict.fromkeys([*getattr(route, "errors", ()), *usage.raised_errors(route.endpoint)])),
                    getattr(route, "conditional", False) or usage.is_conditional(route.endpoint),
                )
            )
    return found


def template_problem(template: str) -> str | None:
    """Why ``template`` is not a route template, as the router says it (``/notes/{note_id``: unbalanced braces)."""
    try:
        check_template(template)
    except ValueError as exc:
        return str(exc).partition(": ")[2] or str(exc)
    return None


def preflights(routes: list[Declared]) -> list[Declared]:
    """One public ``OPTIONS`` route per declared path, in the module that serves the path."""
    first: dict[str, Declared] = {}
    for route in routes:
        first.setdefault(route.path, route)
    return [
        Declared(PREFLIGHT, path, True, route.module, "preflight", f"CORS preflight of {path}")
        for path, route in first.items()
    ]


def camel(text: str) -> str:
    """``read_avatar`` -> ``ReadAvatar``; ``/users/{user_id}`` -> ``UsersUserId``."""
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", text))


def suggested_function(module: str) -> str:
    """The logical id a new function for ``module`` gets: ``handlers.ping`` -> ``PingFunction``."""
    return camel(module.rpartition(".")[2]) + "Function"


def handler_module(function: dict) -> str:
    """``handlers.users`` for a function whose ``Handler`` is ``handlers.users.lambda_handler``."""
    return str(function.get("Properties", {}).get("Handler", "")).rpartition(".")[0]


def functions_by_module(template: dict) -> dict[str, str]:
    """``{handler module: function logical id}``, as the template's ``Handler`` properties map them."""
    return {handler_module(function): name for name, function in samtemplate.functions(template).items()}


def planned_functions(template: dict, routes: list[Declared]) -> dict[str, str]:
    """``{module: function}`` for every module that declares routes: its function, or the one it should get."""
    deployed = functions_by_module(template)
    return {route.module: deployed.get(route.module, suggested_function(route.module)) for route in routes}


def check_declarations(routes: list[Declared]) -> list[str]:
    """Each route declared once, and all the methods of a path in one module (whose function answers OPTIONS)."""
    found, seen, modules = [], {}, {}
    for route in routes:
        why = template_problem(route.path)
        if why:
            found.append(f"{route.module}.{route.endpoint}: route {route.path!r} is malformed: {why}")
            continue
        if route.key in seen:
            found.append(
                f"{route} is declared twice, by {seen[route.key].module}.{seen[route.key].endpoint} and "
                f"{route.module}.{route.endpoint}: keep one"
            )
        seen.setdefault(route.key, route)
        modules.setdefault(route.path, []).append(route.module)
    for path, serving in modules.items():
        if len(set(serving)) > 1:
            found.append(
                f"{path} is served by {', '.join(sorted(set(serving)))}: keep every method of a path in one "
                f"handler module, whose function also answers the path's OPTIONS preflight"
            )
    return found


def path_parameters(path: str) -> list[str]:
    return re.findall(r"{([^}]+)}", path)
