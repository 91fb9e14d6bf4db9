"""Environment variables: which ones the code reads, and which ones the template must set.

Names come from the code itself: every ``environ.get("NAME", default)``,
``os.getenv("NAME")``, ``environ["NAME"]`` and every config reader called as
``reader(environ, "NAME", default, ...)`` (``env_int``, ``env_bool``...).
A variable read with a non-empty default may be left unset. One read without a
usable default needs a decision, recorded below with its reason.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

# Set on every function whose code includes the module named here.
REQUIRED_WITH_MODULE = {
    "STAGE": "shared.config",  # defaults to "local", which only local runs may claim
    "MONGODB_URI": "shared.db",  # a Secrets Manager / SSM reference, resolved once per container
    "MONGODB_DATABASE": "shared.db",
    "CORS_ALLOW_ORIGINS": "shared.cors",  # explicit even when empty (CORS off), so the choice is visible
    "JWT_SECRET": "authorizer",  # JWT_SECRET or JWT_JWKS_URL holds the key source; the other is empty
    "JWT_JWKS_URL": "authorizer",
    "JWT_ISSUER": "authorizer",
    "JWT_AUDIENCE": "authorizer",
}
# Read without a default, yet fine unset in a deployment.
OPTIONAL = {
    "JWT_ALGORITHMS": "empty means the usual algorithm for the key source (HS256, or RS256 with a JWKS)",
}
# AWS_* variables are set by the Lambda runtime (credentials, region, initialization type) or follow the
# AWS SDKs' conventions for overrides (endpoints, CA bundle); the code reads them unset as "not configured".
AWS_CONVENTIONS_PREFIX = "AWS_"
NEVER_SET = {
    "LOCAL_AUTH": "local runs only: it lets an API function verify bearer tokens itself",
}


@dataclass(frozen=True)
class Read:
    name: str
    module: str
    has_default: bool  # a non-empty default the code falls back to


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "environ") or (
        isinstance(node, ast.Attribute) and node.attr == "environ"
    )


def _constant(node: ast.AST | None):
    return node.value if isinstance(node, ast.Constant) else None


def _read_of(node: ast.AST) -> tuple[str, ast.AST | None, bool] | None:
    """``(name, default node, has default argument)`` when ``node`` reads an environment variable."""
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        return _constant(node.slice), None, False
    if not isinstance(node, ast.Call):
        return None
    function, args = node.func, node.args
    if isinstance(function, ast.Attribute) and function.attr == "get" and _is_environ(function.value) and args:
        return _constant(args[0]), args[1] if len(args) > 1 else None, len(args) > 1
    if (
        isinstance(function, (ast.Name, ast.Attribute))
        and getattr(function, "id", getattr(function, "attr", "")) == "getenv"
        and args
    ):
        return _constant(args[0]), args[1] if len(args) > 1 else None, len(args) > 1
    if len(args) >= 2 and _is_environ(args[0]) and isinstance(_constant(args[1]), str):
        return args[1].value, args[2] if len(args) > 2 else None, len(args) > 2
    return None


def reads_in(source: str, module: str) -> list[Read]:
    """Every environment variable read in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        read = _read_of(node)
        if read is None or not isinstance(read[0], str):
            continue
        name, default, has_argument = read
        usable = has_argument and (not isinstance(default, ast.Constant) or default.value not in ("", None))
        found.append(Read(name, module, usable))
    return found


def reads(modules: dict[str, Path]) -> dict[str, list[Read]]:
    """``{variable: [reads]}`` over the given ``{module: path}``."""
    found: dict[str, list[Read]] = {}
    for module, path in modules.items():
        for read in reads_in(path.read_text(), module):
            found.setdefault(read.name, []).append(read)
    return found


def problems(function: str, modules: dict[str, Path], template_variables: set[str]) -> list[str]:
    """What is wrong between the variables ``function``'s code reads and those the template sets."""
    read = reads(modules)
    found = []
    for name in sorted(template_variables):
        if name in NEVER_SET:
            found.append(
                f"{function} sets {name}, which must never be set outside local runs ({NEVER_SET[name]}): "
                f"remove it from the template"
            )
        elif name not in read:
            found.append(
                f"{function} sets {name}, but its code never reads it (a typo or a leftover?): "
                f"rename it to a variable the code reads, or remove it"
            )
    for name, module in sorted(REQUIRED_WITH_MODULE.items()):
        if module in modules and name not in template_variables:
            found.append(
                f"{function}'s code ({module}) needs {name}, but the template does not set it: "
                f"add {name} to its Environment.Variables"
            )
    for name, occurrences in sorted(read.items()):
        undecided = (
            name not in REQUIRED_WITH_MODULE
            and name not in OPTIONAL
            and name not in NEVER_SET
            and not name.startswith(AWS_CONVENTIONS_PREFIX)
        )
        if undecided and not any(occurrence.has_default for occurrence in occurrences):
            found.append(
                f"{name} is read by {occurrences[0].module} without a usable default: decide whether the "
                f"template must set it (REQUIRED_WITH_MODULE or OPTIONAL in tools/checks/envvars.py)"
            )
    return found
