"""The SAM CLI's own code, run offline in a virtualenv of its own (``.local/samcli``).

The SAM CLI pins its own boto3 and cfn-lint, which do not co-install with
``requirements-dev.txt``; the virtualenv is made on first use from
``samcli-requirements.txt`` (the same pins the deploy job installs) and made
again when that file changes. Its ``samcli_parse.py`` (``PARSER``) parses a
``sam deploy`` command line exactly as ``sam deploy`` does, without running it:
the tests' oracle of what ``make deploy`` sends.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
REQUIREMENTS = Path(__file__).with_name("samcli-requirements.txt")
PARSER = Path(__file__).with_name("samcli_parse.py")
VENV = ROOT / ".local" / "samcli"
STAMP = "requirements.sha256"


class SamCliError(RuntimeError):
    """The SAM CLI's virtualenv could not be made, or its parser failed to run."""


def _digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def python() -> Path:
    """The interpreter of a virtualenv holding the pinned SAM CLI, made on first use (about a minute)."""
    interpreter = VENV / "bin" / "python"
    stamp = VENV / STAMP
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.with_name(f"{VENV.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be making it right now
        if interpreter.exists() and stamp.exists() and stamp.read_text() == _digest():
            return interpreter
        shutil.rmtree(VENV, ignore_errors=True)
        print("installing the pinned SAM CLI into .local/samcli (first time only)", file=sys.stderr)
        for command in (
            [sys.executable, "-m", "venv", str(VENV)],
            [str(interpreter), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
        ):
            result = subprocess.run(command, capture_output=True, text=True, timeout=900)
            if result.returncode != 0:
                raise SamCliError(f"{' '.join(command[:4])} failed:\n{result.stderr[-2000:]}")
        stamp.write_text(_digest())  # last: a half-made virtualenv has no stamp and is made again
    return interpreter
