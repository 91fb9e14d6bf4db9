"""Go programs the tools run, built once from the Go module proxy into ``.local/bin``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = ROOT / ".local" / "bin"


class GoBuildError(RuntimeError):
    """Go is missing, or the build failed."""


def install(module: str, version: str, name: str) -> Path:
    """The binary ``name`` of ``module@version``, built on first use into ``.local/bin/<name>-<version>/``."""
    target = BIN_DIR / f"{name}-{version}" / name
    if target.exists():
        return target
    if shutil.which("go") is None:
        raise GoBuildError(f"Go is needed to build {name}; install Go >= 1.24")
    print(f"building {name} {version} from the Go module proxy (first time only)", file=sys.stderr)
    result = subprocess.run(
        ["go", "install", f"{module}@{version}"],
        env={**os.environ, "GOBIN": str(target.parent)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0 or not target.exists():
        raise GoBuildError(f"go install {module}@{version} failed:\n{result.stderr}")
    return target
