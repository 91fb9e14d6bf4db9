"""Build one deployment zip per function of ``template.yaml``, without AWS or Docker.

    python -m tools.build            # or: make build

Each zip holds only what its function imports: the project modules reached
from its handler (see :mod:`tools.checks.imports`) and the pinned
distributions they need, as wheels for the runtime's platform (Linux arm64)
and Python version. Every ``.py`` is compiled to bytecode by an interpreter of
exactly the runtime's version, as unchecked hash-based ``.pyc`` files: Lambda's
code folder is read-only, so a missing or stale ``.pyc`` would be compiled
again on every cold start, and zip timestamps (2 s resolution) would make
timestamp-based ``.pyc`` files look stale. Zips are reproducible: same inputs,
same bytes, so an unchanged function keeps its version on deploy.

The interpreter is ``LAMBDA_PYTHON`` when set, else ``python3.X`` on PATH, else
pyenv's newest 3.X (:mod:`tools.interpreter`, which ``make setup`` uses for the
virtualenv too). Writes ``build/<Function>.zip``, ``build/sizes.json`` and
prints a table of sizes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from tools import cli, interpreter, samtemplate
from tools.checks import imports, sam

ROOT = Path(__file__).resolve().parent.parent

BUILD_DIR = ROOT / "build"
WHEEL_CACHE = ROOT / ".local" / "lambda-deps"
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SKIPPED_PARTS = {"__pycache__", "bin"}
# Source paths recorded in the bytecode: Lambda's code folder, not the build folder, so builds are reproducible.
TASK_ROOT = "/var/task"


class BuildError(RuntimeError):
    """The artifacts cannot be built; the message says what to install or fix."""


def runtime_version(template: dict) -> str:
    """``3.12`` for ``Runtime: python3.12`` (in Globals or on every function)."""
    runtimes = {properties.get("Runtime") for properties in sam.function_properties(template).values()}
    if len(runtimes) != 1 or not str(next(iter(runtimes))).startswith("python3."):
        raise BuildError(f"every function must use the same python3.X runtime, got {sorted(map(str, runtimes))}")
    return next(iter(runtimes)).removeprefix("python")


def find_interpreter(version: str, environ: Mapping[str, str] = os.environ) -> str:
    """A Python ``version`` interpreter for compiling bytecode; BuildError naming the fix when none is found."""
    try:
        return interpreter.find(version, environ)
    except interpreter.InterpreterNotFound as exc:
        raise BuildError(f"{exc} Bytecode is version-specific.") from None


def install_distribution(requirement, version: str, cache: Path = WHEEL_CACHE, hashes: Sequence[str] = ()) -> Path:
    """The folder holding ``requirement`` installed for Lambda (arm64, CPython ``version``), cached.

    With ``hashes`` (requirements.txt is a hash lock) pip installs only a file of one of them.
    """
    pinned = f"{requirement.name}{requirement.specifier}"
    target = cache / f"cp{version.replace('.', '')}-aarch64" / pinned.replace("==", "-")
    if (target / ".complete").exists():
        return target
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    locked = target / ".requirement.txt"
    locked.write_text(" ".join([pinned, *(f"--hash={value}" for value in hashes)]) + "\n")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-compile",
        "--disable-pip-version-check",
        "--target",
        str(target),
        "--implementation",
        "cp",
        "--python-version",
        version,
        "--only-binary=:all:",
        *(["--require-hashes"] if hashes else []),
    ]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    result = subprocess.run([*command, "-r", str(locked)], capture_output=True, text=True)
    locked.unlink()
    if result.returncode != 0:
        raise BuildError(f"pip could not install {pinned} for Linux arm64 / Python {version}:\n{result.stderr}")
    (target / ".complete").touch()
    return target


def _copy_tree(source: Path, destination: Path) -> None:
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_dir() or SKIPPED_PARTS & set(relative.parts) or relative.name == ".complete":
            continue
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination / relative)


def stage_function(entry_module: str, staging: Path, version: str, pins) -> None:
    """Copy the function's project modules and distributions into ``staging``."""
    found = imports.closure(entry_module)
    for path in found.modules.values():
        relative = path.relative_to(ROOT)
        (staging / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, staging / relative)
    hashes = imports.pinned_hashes()
    for requirement in imports.distributions(found.third_party, pins, version):
        locked = hashes.get(canonicalize_name(requirement.name), ())
        _copy_tree(install_distribution(requirement, version, hashes=locked), staging)


def compile_bytecode(python: str, staging: Path) -> None:
    """Unchecked hash-based ``.pyc`` next to every ``.py``, compiled by the runtime's Python version."""
    command = [
        python,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(staging),
        "-p",
        TASK_ROOT,
        str(staging),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"compileall failed in {staging}:\n{result.stdout}{result.stderr}")


def write_zip(staging: Path, destination: Path) -> int:
    """Zip ``staging`` reproducibly (sorted names, fixed dates and modes); return the unzipped size."""
    unzipped = 0
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(staging.rglob("*")):
            if path.is_dir():
                continue
            info = zipfile.ZipInfo(path.relative_to(staging).as_posix(), date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            unzipped += len(data)
            archive.writestr(info, data, compresslevel=9)
    return unzipped


def build(out: Path = BUILD_DIR, template_path: Path = samtemplate.TEMPLATE, environ=os.environ) -> dict:
    """Build every function's zip into ``out``; return ``{function: {"zip_bytes", "unzipped_bytes"}}``."""
    template = samtemplate.load(template_path)
    version = runtime_version(template)
    python = find_interpreter(version, environ)
    pins = imports.pinned_requirements()
    sizes = {}
    for name, properties in sorted(sam.function_properties(template, with_hooks=True).items()):
        staging = out / name
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        stage_function(properties["Handler"].rpartition(".")[0], staging, version, pins)
        compile_bytecode(python, staging)
        archive = out / f"{name}.zip"
        unzipped = write_zip(staging, archive)
        sizes[name] = {"zip_bytes": archive.stat().st_size, "unzipped_bytes": unzipped}
    (out / "sizes.json").write_text(json.dumps(sizes, indent=2, sort_keys=True) + "\n")
    return sizes


def size_table(sizes: dict) -> str:
    lines = [f"{'function':<24}{'zip':>12}{'unzipped':>12}"]
    for name, size in sorted(sizes.items()):
        lines.append(f"{name:<24}{size['zip_bytes'] / 1024:>9.0f} KB{size['unzipped_bytes'] / 1024:>9.0f} KB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="make build", description="Build one deployment zip per function, without AWS.")
    parser.add_argument("--out", type=Path, default=BUILD_DIR, help="output folder (default: build/)")
    args = parser.parse_args(argv)
    try:
        sizes = build(args.out.resolve())
    except (BuildError, imports.ImportAnalysisError) as exc:
        print(f"build: {exc}", file=sys.stderr)
        return 1
    print(size_table(sizes))
    print(f"sizes written to {args.out / 'sizes.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
