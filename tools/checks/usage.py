"""What an endpoint's code uses, read from its bytecode: the problems it raises and the conditional helpers it calls.

A route's statuses come from its declaration (:mod:`tools.generate`); these come from its code, so that an
endpoint which raises ``errors.Conflict`` or answers ``none_match`` with a 304 has them documented even when
its route does not name them. The endpoint is read with every function of its own module it calls, to any
depth; calls into other modules are not followed (name those errors with ``errors=`` on the route).
"""

from __future__ import annotations

import types
from typing import Any

from shared import conditional, errors

# shared.conditional's header helpers: a route that calls one answers 304 (a read) or 412 (a write).
CONDITIONAL = {conditional.none_match, conditional.read_response, conditional.if_match_revisions}
CONDITIONAL |= {conditional.revision_query, conditional.update, conditional.delete}


def _codes(code: types.CodeType) -> list[types.CodeType]:
    """``code`` and the code of the functions, lambdas and comprehensions written inside it."""
    found = [code]
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            found += _codes(constant)
    return found


def _resolved(names: tuple[str, ...], namespace: dict[str, Any]) -> list[Any]:
    """What the names of one code object stand for in its module: globals, and attributes of
    ``shared.errors`` or ``shared.conditional`` where the code names that module too (``errors.Conflict``) or
    imports from it (``from shared.conditional import none_match`` inside a function)."""
    modules = [namespace[name] for name in names if namespace.get(name) in (errors, conditional)]
    modules += [module for module in (errors, conditional) if module.__name__ in names]  # imported inside the code
    found = [namespace[name] for name in names if name in namespace]
    found += [getattr(module, name) for module in modules for name in names if hasattr(module, name)]
    return found


def used_by(endpoint: Any) -> list[Any]:
    """Every object the endpoint's code names (globals, and attributes of ``shared.errors`` and
    ``shared.conditional``), through the functions of its own module it calls."""
    module = getattr(endpoint, "__module__", None)
    namespace = getattr(endpoint, "__globals__", {})
    seen: set[int] = set()
    used: dict[int, Any] = {}
    pending = [endpoint]
    while pending:
        function = pending.pop()
        if id(function) in seen or not hasattr(function, "__code__"):
            continue
        seen.add(id(function))
        for code in _codes(function.__code__):
            for value in _resolved(code.co_names, namespace):
                used[id(value)] = value
                if isinstance(value, types.FunctionType) and value.__module__ == module:
                    pending.append(value)
    return list(used.values())


def raised_errors(endpoint: Any) -> tuple[type[errors.HTTPError], ...]:
    """The :mod:`shared.errors` classes the endpoint's code names, in status order."""
    found = {
        value
        for value in used_by(endpoint)
        if isinstance(value, type) and issubclass(value, errors.HTTPError) and value is not errors.HTTPError
    }
    return tuple(sorted(found, key=lambda error: (error.status, error.__name__)))


def is_conditional(endpoint: Any) -> bool:
    """Whether the endpoint's code calls :mod:`shared.conditional`'s header helpers."""
    helpers = {id(helper) for helper in CONDITIONAL}
    return any(id(value) in helpers for value in used_by(endpoint))
