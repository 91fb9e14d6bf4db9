"""What a function imports: its project modules and the distributions they need.

The analysis reads source, never imports it: every ``import`` statement of the
handler's module is followed through the project's own modules, including the
imports made inside functions (a lazy import still has to be in the artifact).
Third-party imports are mapped to the distributions pinned in
``requirements.txt``, with their dependencies for the Lambda platform.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent.parent
# Provided by the Lambda Python runtime: shared.early imports its SnapStart hooks module only under SnapStart.
RUNTIME_PROVIDED = frozenset({"snapshot_restore_py"})
# Import edges used only by local runs. shared.principal imports shared.tokens for LOCAL_AUTH, which
# shared.config refuses unless STAGE=local, so a deployed API function never follows that edge.
LOCAL_ONLY_EDGES = frozenset({("shared.principal", "shared.tokens")})
# Extras a distribution needs at run time although its metadata makes them optional: PyJWT verifies
# RS/ES-signed tokens (JWT_JWKS_URL) only with cryptography installed.
EXTRAS = {"pyjwt": ("crypto",)}
# The Lambda runtime's platform, for the environment markers of dependencies (its Python version: lambda_markers).
LAMBDA_PLATFORM = {
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
    "platform_machine": "aarch64",
    "extra": "",
}


def lambda_markers(python_version: str) -> dict[str, str]:
    """The environment markers of the Lambda runtime for Python ``python_version`` (``3.13``)."""
    return {**LAMBDA_PLATFORM, "python_version": python_version, "python_full_version": f"{python_version}.0"}


class ImportAnalysisError(RuntimeError):
    """A module or distribution a function needs cannot be found or is not pinned."""


def module_path(name: str, root: Path = ROOT) -> Path | None:
    """The source file of project module ``name`` (``shared.db`` -> ``shared/db.py``), if any."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def is_project_module(name: str, root: Path = ROOT) -> bool:
    """Whether ``name`` lives in the project: its top level is a package or module at ``root``."""
    top = name.split(".")[0]
    return bool(top) and ((root / top / "__init__.py").is_file() or (root / f"{top}.py").is_file())


@functools.lru_cache(maxsize=1024)
def imported_names(source: str, package: str) -> tuple[tuple[str, bool], ...]:
    """``(module, lazy)`` for every import in ``source``; ``lazy`` when made inside a function.

    Remembered by source text: the analysis of every route and function walks the same modules again.
    """
    found: list[tuple[str, bool]] = []
    tree = ast.parse(source)
    lazy_nodes = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(function)
    }
    for node in ast.walk(tree):
        lazy = id(node) in lazy_nodes
        if isinstance(node, ast.Import):
            found += [(alias.name, lazy) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.append((base, lazy))
            found += [(f"{base}.{alias.name}", lazy) for alias in node.names]
    return tuple(found)


@dataclass
class Closure:
    """The project modules a function's code can import, and the third-party top-level names."""

    modules: dict[str, Path]
    third_party: set[str]


def closure(entry_module: str, root: Path = ROOT, deployed: bool = True) -> Closure:
    """Every project module reachable from ``entry_module``, lazy imports included.

    ``deployed`` drops the :data:`LOCAL_ONLY_EDGES`. Package ``__init__`` files
    of every reached module are included, as the import system loads them.
    """
    modules: dict[str, Path] = {}
    third_party: set[str] = set()
    pending = [entry_module]
    while pending:
        name = pending.pop()
        if name in modules:
            continue
        path = module_path(name, root)
        if path is None:
            raise ImportAnalysisError(f"{name} is imported but there is no {name.replace('.', '/')}.py")
        modules[name] = path
        parts = name.split(".")
        pending += [".".join(parts[:index]) for index in range(1, len(parts)) if ".".join(parts[:index]) not in modules]
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for imported, _lazy in imported_names(path.read_text(), package):
            if deployed and (name, imported) in LOCAL_ONLY_EDGES:
                continue
            top = imported.split(".")[0]
            if is_project_module(imported, root):
                if module_path(imported, root) is not None:
                    pending.append(imported)
            elif top and top not in sys.stdlib_module_names and top != "__future__":
                third_party.add(top)
    return Closure(modules, third_party)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file, continuation lines joined, comments left out."""
    joined = path.read_text().replace("\\\n", " ")
    return [line.split("#", 1)[0].strip() for line in joined.splitlines() if line.split("#", 1)[0].strip()]


def pinned_requirements(path: Path = ROOT / "requirements.txt") -> dict[str, Requirement]:
    """The ``name==version`` lines of a requirements file (a hash lock too), by canonical name."""
    pins = {}
    for line in _locked_lines(path):
        requirement = Requirement(line.split(" --hash=", 1)[0])
        pins[_canonical(requirement.name)] = requirement
    return pins


def pinned_hashes(path: Path = ROOT / "requirements.txt") -> dict[str, list[str]]:
    """The ``sha256:...`` hashes of each pinned distribution of a hash lock, by canonical name."""
    return {
        _canonical(Requirement(line.split(" --hash=", 1)[0]).name): re.findall(r"--hash=(\S+)", line)
        for line in _locked_lines(path)
    }


def _distribution_of(top_level: str) -> str:
    names = importlib.metadata.packages_distributions().get(top_level)
    if not names:
        raise ImportAnalysisError(f"no installed distribution provides the module {top_level!r}")
    return _canonical(names[0])


def _dependencies(distribution: str, extras: tuple[str, ...], python_version: str) -> list[str]:
    requires = importlib.metadata.distribution(distribution).requires or []
    wanted = []
    for line in requires:
        requirement = Requirement(line)
        marker: Marker | None = requirement.marker
        environments = [{**lambda_markers(python_version), "extra": extra} for extra in ("", *extras)]
        if marker is None or any(marker.evaluate(environment) for environment in environments):
            wanted.append(_canonical(requirement.name))
    return wanted


def distributions(top_level_names: set[str], pins: dict[str, Requirement], python_version: str) -> list[Requirement]:
    """The pinned distributions behind ``top_level_names`` and their dependencies on Lambda's platform with Python
    ``python_version``."""
    needed: dict[str, Requirement] = {}
    pending = [_distribution_of(name) for name in top_level_names if name not in RUNTIME_PROVIDED]
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        if name not in pins:
            raise ImportAnalysisError(f"{name} is needed at run time but not pinned in requirements.txt")
        needed[name] = pins[name]
        pending += _dependencies(name, EXTRAS.get(name, ()), python_version)
    return sorted(needed.values(), key=lambda requirement: _canonical(requirement.name))
