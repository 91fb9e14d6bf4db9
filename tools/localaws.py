"""A local AWS endpoint for tests and the benchmark: moto's server on loopback, over HTTP or HTTPS.

    server = localaws.start(port, tls=(cert_file, key_file))   # or tls=None for plain HTTP
    os.environ["AWS_ENDPOINT_URL"] = server.url
    localaws.require_signatures(server.url)                    # from now on, IAM checks every request
    localaws.stop(server)

It answers the AWS JSON protocol of Secrets Manager, SSM, IAM and STS as AWS
does (a model of them: see README, "Secrets"). With :func:`require_signatures`
it checks each request's SigV4 signature and session token against the
credentials it issued, and the caller's IAM policies; before that it accepts
anything, which is how a test creates its users, roles and secrets.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from collections import namedtuple
from pathlib import Path

from tools import loopback

START_TIMEOUT_SECONDS = 30
Server = namedtuple("Server", "process url")
# moto reads these bodies raw: as a form (urllib's default type) they would arrive empty.
RAW_BODY = {"Content-Type": "application/octet-stream"}


class LocalAWSError(RuntimeError):
    """The local endpoint did not start or did not answer."""


def start(port: int, tls: tuple[Path, Path] | None = None, log_file=None) -> Server:
    """moto's server on 127.0.0.1:``port``, with ``tls=(cert_file, key_file)`` for HTTPS; returns once it listens."""
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    if tls is not None:
        command += ["--ssl-cert", str(tls[0]), "--ssl-key", str(tls[1])]
    process = subprocess.Popen(command, stdout=log_file or subprocess.DEVNULL, stderr=log_file or subprocess.DEVNULL)
    try:
        loopback.wait_until_listening(port, process, START_TIMEOUT_SECONDS)
    except loopback.NotListening as exc:
        raise LocalAWSError(f"moto's server did not start: {exc}") from None
    scheme = "https" if tls is not None else "http"
    return Server(process, f"{scheme}://127.0.0.1:{port}")


def _post(url: str, body: bytes, ca_file: Path | None = None) -> None:
    import ssl

    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=body, method="POST", headers=RAW_BODY), timeout=10, context=context
        ) as answer:
            answer.read()
    except OSError as exc:
        raise LocalAWSError(f"{url}: {exc}") from None


def require_signatures(url: str, ca_file: Path | None = None) -> None:
    """From now on, refuse requests that are not signed by credentials the server knows, or that IAM denies."""
    _post(f"{url}/moto-api/reset-auth", b"0", ca_file)


def reset(url: str, ca_file: Path | None = None) -> None:
    """Forget every resource and stop checking signatures, as a freshly started server."""
    _post(f"{url}/moto-api/reset-auth", b"inf", ca_file)
    _post(f"{url}/moto-api/reset", b"", ca_file)


def stop(server: Server) -> None:
    loopback.stop(server.process)
