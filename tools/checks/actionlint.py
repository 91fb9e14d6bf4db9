"""actionlint, built once from the Go module proxy into ``.local/bin`` (PyPI's wrapper downloads from GitHub)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VERSION = "v1.7.12"
MODULE = "github.com/rhysd/actionlint/cmd/actionlint"
BIN_DIR = ROOT / ".local" / "bin" / f"actionlint-{VERSION}"


class ActionlintError(RuntimeError):
    """actionlint could not be built or run."""


def binary() -> Path:
    """The actionlint executable, built on first use (needs Go)."""
    target = BIN_DIR / "actionlint"
    if target.exists():
        return target
    if shutil.which("go") is None:
        raise ActionlintError("Go is needed to build actionlint for `make lint`; install Go >= 1.24")
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["go", "install", f"{MODULE}@{VERSION}"], env={**os.environ, "GOBIN": str(BIN_DIR)},
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0 or not target.exists():
        raise ActionlintError(f"go install {MODULE}@{VERSION} failed:\n{result.stderr}")
    return target


def lint(paths: list[Path]) -> list[str]:
    """actionlint's findings for ``paths``, one line each (empty when clean)."""
    command = [str(binary()), "-oneline", "-shellcheck=", "-pyflakes=", *map(str, paths)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    if result.returncode not in (0, 1):
        raise ActionlintError(f"actionlint failed: {result.stderr.strip()}")
    return [line for line in result.stdout.splitlines() if line.strip()]
