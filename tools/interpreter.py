"""The interpreter of the Lambda runtime's Python version, found before any virtualenv exists.

    python3 -m tools.interpreter version   # 3.12, from template.yaml's Runtime: python3.12
    python3 -m tools.interpreter path      # the path of a Python 3.12 interpreter, or one line naming the fix

Standard library only: ``make setup`` runs it with whatever ``python3`` is on PATH to choose the
interpreter the virtualenv is built on, so that the tests run the Python version the functions run.
``make build`` (:mod:`tools.build`) compiles the functions' bytecode with the interpreter it finds.
The search order: ``LAMBDA_PYTHON`` when set, else ``python3.X`` on PATH, else pyenv's newest 3.X.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
RUNTIME_LINE = r"^\s*Runtime:\s*['\"]?python(3\.\d+)['\"]?\s*(?:#.*)?$"


class InterpreterNotFound(RuntimeError):
    """No interpreter of the wanted version; the message says what to install."""


def template_runtime_version(text: str) -> str:
    """``3.12`` for a template whose ``Runtime:`` lines all say ``python3.12``; ValueError otherwise."""
    versions = set(re.findall(RUNTIME_LINE, text, flags=re.MULTILINE))
    if len(versions) != 1:
        raise ValueError(f"the template must name one python3.X Runtime, found {sorted(versions) or 'none'}")
    return versions.pop()


def reports_version(python: str, version: str) -> bool:
    """Whether ``python`` runs and is CPython ``version`` (``3.12``)."""
    try:
        answer = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return answer.returncode == 0 and answer.stdout.strip() == version


def _release_key(name: str) -> list[int]:
    return [int(part) if part.isdigit() else -1 for part in name.split(".")]


def pyenv_python(version: str) -> str | None:
    """The newest pyenv-installed ``version`` interpreter, or None."""
    if shutil.which("pyenv") is None:
        return None
    listed = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True)
    candidates = sorted(
        (line.strip() for line in listed.stdout.splitlines() if line.strip().startswith(f"{version}.")),
        key=_release_key,
    )
    for candidate in reversed(candidates):
        prefix = subprocess.run(["pyenv", "prefix", candidate], capture_output=True, text=True).stdout.strip()
        python = Path(prefix) / "bin" / f"python{version}"
        if prefix and python.exists():
            return str(python)
    return None


def find(version: str, environ: Mapping[str, str] = os.environ) -> str:
    """A working Python ``version`` interpreter; InterpreterNotFound naming the fix when there is none."""
    configured = environ.get("LAMBDA_PYTHON", "").strip()
    if configured:
        if reports_version(configured, version):
            return configured
        raise InterpreterNotFound(f"LAMBDA_PYTHON={configured} is not a working Python {version} interpreter")
    on_path = shutil.which(f"python{version}")
    if on_path and reports_version(on_path, version):
        return on_path
    found = pyenv_python(version)
    if found and reports_version(found, version):
        return found
    raise InterpreterNotFound(
        f"no Python {version} interpreter found: the Lambda runtime is python{version}. Install Python "
        f"{version} (for example `pyenv install {version}` or your package manager) or set LAMBDA_PYTHON to its path."
    )


def main(argv: list[str] | None = None) -> int:
    """``version`` prints the template's runtime version; ``path`` an interpreter of it (exit 1: one line why not)."""
    command = (argv if argv is not None else sys.argv[1:]) or ["path"]
    try:
        version = template_runtime_version(TEMPLATE.read_text())
        print(version if command[0] == "version" else find(version))
    except (ValueError, InterpreterNotFound) as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
