"""Build and run the local MongoDB-protocol server (FerretDB v1 on SQLite).

The server is a real wire-protocol server, built from the Go module in
``tools/localdb`` and cached under ``.local/bin``. The binary's name carries a
hash of the module's sources, so it is rebuilt only when they change.

    python -m tools.localdb build
    python -m tools.localdb serve [--port 27017] [--data .local/db]

Tests import :func:`start` to run their own instance on a free port (see :mod:`tools.loopback`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

from tools import cli, loopback

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "tools" / "localdb"
BIN_DIR = ROOT / ".local" / "bin"
START_TIMEOUT_SECONDS = 30

TLSListener = namedtuple("TLSListener", "port cert_file key_file")
TLSListener.__doc__ = "A TLS listener on 127.0.0.1:``port`` with a PEM certificate and key (see tools.localtls)."


class LocalDBError(RuntimeError):
    """The local server could not be built or did not start."""


def binary_path() -> Path:
    """Where the binary for the current sources lives (built or not)."""
    digest = hashlib.sha256()
    for path in sorted([MODULE / "go.mod", MODULE / "go.sum", *MODULE.glob("*.go")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
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


def command(
    binary: Path, port: int | None, data_dir: Path, tls: TLSListener | None = None, ungated_port: int | None = None
) -> list[str]:
    """The server's command line: plain TCP on ``port``, TLS as ``tls`` says, FerretDB's own on ``ungated_port``.

    None turns a listener off.
    """
    arguments = [str(binary), "-data", str(Path(data_dir).resolve())]
    if port is not None:
        arguments += ["-listen", f"127.0.0.1:{port}"]
    if tls is not None:
        arguments += [
            "-tls-listen",
            f"127.0.0.1:{tls.port}",
            "-tls-cert",
            str(tls.cert_file),
            "-tls-key",
            str(tls.key_file),
        ]
    if ungated_port is not None:
        arguments += ["-ungated-listen", f"127.0.0.1:{ungated_port}"]
    return arguments


def start(
    port: int, data_dir: Path, log_file=None, tls: TLSListener | None = None, ungated_port: int | None = None
) -> subprocess.Popen:
    """Start a server on 127.0.0.1:``port`` storing its files in ``data_dir``, and on ``tls`` too when given.

    ``ungated_port`` also exposes the embedded FerretDB directly, without the
    write gate: only to compare against it. Returns the running process once
    every listener accepts connections; the caller stops it with :func:`stop`.
    """
    process = subprocess.Popen(
        command(build(), port, data_dir, tls, ungated_port),
        stdout=log_file or subprocess.DEVNULL,
        stderr=log_file or subprocess.DEVNULL,
    )
    ports = [port, *([tls.port] if tls else []), *([ungated_port] if ungated_port else [])]
    wait_until_listening(process, ports)
    return process


def wait_until_listening(process: subprocess.Popen, ports: list[int]) -> None:
    """Block until ``process`` accepts connections on every port; LocalDBError (and it is stopped) otherwise."""
    try:
        for port in ports:
            loopback.wait_until_listening(port, process, START_TIMEOUT_SECONDS)
    except loopback.NotListening as exc:
        loopback.stop(process)
        raise LocalDBError(f"localdb did not start: {exc}") from None


def stop(process: subprocess.Popen) -> None:
    """Stop a server started by :func:`start` and wait for it to exit."""
    loopback.stop(process)


def _interrupt(signum: int, frame) -> None:
    raise KeyboardInterrupt


def serve(port: int, data_dir: Path) -> int:
    """Run a server in the foreground until Ctrl-C (SIGINT) or SIGTERM, then stop it and return 0.

    A busy port or a failed start is one line on stderr and 1. Either signal stops the server
    before this returns, so no process outlives the command.
    """
    if loopback.listening(port):
        print(f"make db: port {port} is already in use; stop that server or choose another DB_PORT", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _interrupt)
    process = subprocess.Popen(command(build(), port, data_dir))
    try:
        loopback.wait_until_listening(port, process, START_TIMEOUT_SECONDS)
        print(f"make db: mongodb://127.0.0.1:{port}/ (data in {data_dir}); Ctrl-C stops it", flush=True)
        return process.wait()
    except loopback.NotListening as exc:
        if process.returncode != 1:  # status 1: the server has printed its own one-line reason
            print(f"make db: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop(process)


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="make db", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", prog="python -m tools.localdb build", help="build the server binary if needed")
    serve_parser = commands.add_parser("serve", prog="make db", help="run the server in the foreground")
    serve_parser.add_argument("--port", type=cli.port, default=os.environ.get("DB_PORT", "").strip() or "27017")
    serve_parser.add_argument(
        "--data", type=Path, default=os.environ.get("DB_DATA", "").strip() or ROOT / ".local" / "db"
    )
    args = parser.parse_args(argv)

    try:
        binary = build()
        if args.command == "build":
            print(binary)
            return 0
        return serve(args.port, args.data.resolve())
    except LocalDBError as exc:
        print(f"localdb: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
