"""Type declarations that cost the functions nothing at run time, and agree with what runs.

The deployed code imports ``typing`` only under ``TYPE_CHECKING`` (which the checker reads as true and the
functions as false). A namedtuple's fields are typed in a ``typing.NamedTuple`` the checker alone reads,
beside the ``collections.namedtuple`` (or the tuple class with a ``__new__``) the functions build: both must name
the same fields, in the same order, with the same defaults.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOYED = sorted(
    path
    for pattern in ("shared/*.py", "handlers/*.py", "profiles/*.py", "authorizer.py")
    for path in ROOT.glob(pattern)
)
CHECKER_ONLY = ("typing", "dataclasses")
Fields = tuple[list[str], tuple[object, ...]]  # a namedtuple's field names, and its defaults


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _module_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """The modules imported by the statements that run at import, outside ``if TYPE_CHECKING:`` blocks."""
    found = []
    for node in tree.body:
        if _is_type_checking(node):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import):
                found += [(inner.lineno, alias.name) for alias in inner.names]
            elif isinstance(inner, ast.ImportFrom) and inner.module and not inner.level:
                found.append((inner.lineno, inner.module))
    return found


def _checker_fields(node: ast.ClassDef) -> Fields:
    fields = [item for item in node.body if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)]
    names = [field.target.id for field in fields if isinstance(field.target, ast.Name)]
    defaults = tuple(ast.literal_eval(field.value) for field in fields if field.value is not None)
    return names, defaults


def _runtime_fields(node: ast.stmt, name: str) -> Fields | None:
    """The fields the functions build: a ``namedtuple(...)`` call's, or the ``__new__`` parameters of a tuple class."""
    if isinstance(node, ast.ClassDef) and node.name == name:
        new = next((item for item in node.body if isinstance(item, ast.FunctionDef) and item.name == "__new__"), None)
        if new is None:
            return None
        return [arg.arg for arg in new.args.args[1:]], tuple(ast.literal_eval(value) for value in new.args.defaults)
    if not (isinstance(node, ast.Assign) and [getattr(target, "id", None) for target in node.targets] == [name]):
        return None
    call = node.value
    if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "namedtuple"):
        return None
    names = ast.literal_eval(call.args[1])
    defaults = next((ast.literal_eval(k.value) for k in call.keywords if k.arg == "defaults"), ())
    return (names.split() if isinstance(names, str) else list(names)), tuple(defaults)


def _typed_namedtuples() -> list[tuple[str, str, Fields, Fields | None]]:
    """(where, class, the checker's fields, the run time's fields or None) for every NamedTuple under TYPE_CHECKING."""
    pairs = []
    for path in DEPLOYED:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not _is_type_checking(node):
                continue
            assert isinstance(node, ast.If)
            for declared in node.body:
                if isinstance(declared, ast.ClassDef) and any(
                    getattr(base, "id", None) == "NamedTuple" for base in declared.bases
                ):
                    runtime = next(
                        (found for other in node.orelse if (found := _runtime_fields(other, declared.name))), None
                    )
                    where = f"{path.relative_to(ROOT)}:{declared.lineno}"
                    pairs.append((where, declared.name, _checker_fields(declared), runtime))
    return pairs


@pytest.mark.parametrize("path", DEPLOYED, ids=lambda path: str(path.relative_to(ROOT)))
def test_typing_and_dataclasses_are_imported_by_the_checker_alone(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = [(line, module) for line, module in _module_imports(tree) if module.split(".")[0] in CHECKER_ONLY]
    assert imported == [], f"{path.relative_to(ROOT)} imports at run time what only annotations need"


@pytest.mark.parametrize(
    "where, name, checker, runtime",
    [pytest.param(*found, id=f"{found[0]} {found[1]}") for found in _typed_namedtuples()],
)
def test_a_namedtuple_typed_for_the_checker_has_the_fields_and_defaults_the_functions_build(
    where, name, checker, runtime
):
    assert runtime is not None, f"{where}: {name} has no `else:` namedtuple(...) or tuple class with __new__ beside it"
    assert runtime == checker, f"{where}: the checker's {name} and the namedtuple the functions build differ"
