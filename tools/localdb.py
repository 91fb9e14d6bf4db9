"""Build and run the local MongoDB-protocol server (FerretDB v1 on SQLite).

The server is a real wire-protocol server, built from the Go module in
``tools/localdb`` and cached under ``.local/bin``. The binary's name carries a
hash of the module's sources, so it is rebuilt only when they change.

    python -m tools.localdb build
    python -m tools.localdb serve [--port 27017] [--data .local/db]

Tests import :func:`start` to run their own instance on a free port (see :mod:`tools.loopback`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tools import loopback

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "tools" / "localdb"
BIN_DIR = ROOT / ".local" / "bin"
SOURCES = ("go.mod", "go.sum", "main.go")
START_TIMEOUT_SECONDS = 30


class LocalDBError(RuntimeError):
    """The local server could not be built or did not start."""


def binary_path() -> Path:
    """Where the binary for the current sources lives (built or not)."""
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update((MODULE / name).read_bytes())
    return BIN_DIR / f"localdb-{digest.hexdigest()[:12]}"


def build() -> Path:
    """Build the server once for the current sources; return the binary's path."""
    target = binary_path()
    if target.exists():
        return target
    if shutil.which("go") is None:
        raise LocalDBError("Go is needed to build the local database server; install Go >= 1.24")
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    print(f"localdb: building {target.name} (first time only, a minute or two)", file=sys.stderr)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    result = subprocess.run(
        ["go", "build", "-trimpath", "-o", str(partial), "."],
        cwd=MODULE,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise LocalDBError(f"go build failed:\n{result.stderr}")
    partial.replace(target)
    return target


def start(port: int, data_dir: Path, log_file=None) -> subprocess.Popen:
    """Start a server on 127.0.0.1:``port`` storing its files in ``data_dir``.

    Returns the running process once it accepts connections; the caller stops it
    with ``terminate()``.
    """
    binary = build()
    data_dir = Path(data_dir).resolve()
    process = subprocess.Popen(
        [str(binary), "-listen", f"127.0.0.1:{port}", "-data", str(data_dir)],
        stdout=log_file or subprocess.DEVNULL,
        stderr=log_file or subprocess.DEVNULL,
    )
    try:
        loopback.wait_until_listening(port, process, START_TIMEOUT_SECONDS)
    except loopback.NotListening as exc:
        raise LocalDBError(f"localdb did not start: {exc}") from None
    return process


def stop(process: subprocess.Popen) -> None:
    """Stop a server started by :func:`start` and wait for it to exit."""
    loopback.stop(process)

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="build the server binary if its sources changed")
    serve = commands.add_parser("serve", help="run the server in the foreground")
    serve.add_argument("--port", type=int, default=int(os.environ.get("DB_PORT", "27017")))
    serve.add_argument("--data", type=Path, default=ROOT / ".local" / "db")
    args = parser.parse_args(argv)

    try:
        binary = build()
    except LocalDBError as exc:
        print(f"localdb: {exc}", file=sys.stderr)
        return 1
    if args.command == "build":
        print(binary)
        return 0
    print(f"localdb: mongodb://127.0.0.1:{args.port}/ (data in {args.data}); Ctrl-C stops it")
    data_dir = args.data.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [str(binary), "-listen", f"127.0.0.1:{args.port}", "-data", str(data_dir)]
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
