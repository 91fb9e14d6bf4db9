"""actionlint, built once from the Go module proxy into ``.local/bin`` (PyPI's wrapper downloads from GitHub)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tools import gobuild

ROOT = Path(__file__).resolve().parent.parent.parent
VERSION = "v1.7.12"
MODULE = "github.com/rhysd/actionlint/cmd/actionlint"


class ActionlintError(RuntimeError):
    """actionlint could not be built or run."""


def binary() -> Path:
    """The actionlint executable, built on first use (needs Go)."""
    try:
        return gobuild.install(MODULE, VERSION, "actionlint")
    except gobuild.GoBuildError as exc:
        raise ActionlintError(f"{exc} (`make lint` runs actionlint)") from None


def lint(paths: list[Path]) -> list[str]:
    """actionlint's findings for ``paths``, one line each (empty when clean)."""
    command = [str(binary()), "-oneline", "-shellcheck=", "-pyflakes=", *map(str, paths)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    if result.returncode not in (0, 1):
        raise ActionlintError(f"actionlint failed: {result.stderr.strip()}")
    return [line for line in result.stdout.splitlines() if line.strip()]
