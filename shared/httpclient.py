"""One HTTP/1.1 request on a new connection, bounded by a single deadline: the JWKS and AWS clients' transport.

The deadline covers everything: connecting, the TLS handshake, sending, the
status line and headers, and the body. A server trickling bytes cannot
stretch a request past it, however short each pause. Other rules:

- ``https://`` anywhere, plain ``http://`` only on loopback, no userinfo;
- redirects are not followed: a 3xx is an answer like any other;
- an answer that does not parse as HTTP/1.1 (a status or ``Content-Length``
  that is not ASCII digits, a bad chunk, a body cut short) is
  :class:`ExchangeError` ``MalformedAnswer``; a network failure is one
  named for the error (``TimeoutError``, ``ConnectionRefusedError``...).

Reading is linear in the answer's size. ``http.client`` would cost a cold
start more to import (see ``make bench``) than this module.
"""

from __future__ import annotations

import socket
import ssl
import time
from functools import cache
from urllib.parse import SplitResult, urlsplit

TYPE_CHECKING = False  # re is imported only by the checker here: compiling a pattern waits for a chunked answer
if TYPE_CHECKING:
    import re

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_HEADER_BYTES = 64 * 1024
RECEIVE_BYTES = 65536


class ExchangeError(Exception):
    """The request failed; ``code`` says how (``InvalidEndpoint``, ``MalformedAnswer``, a network error's name)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# An answer: the status code, the headers (names in lower case) and the body, de-chunked. A plain tuple, which its
# callers unpack: even a small class costs a cold start instructions to create.
if TYPE_CHECKING:
    Answer = tuple[int, dict[str, str], bytes]


def checked_url(url: str) -> SplitResult:
    """``url``'s parts when it may be used: https, or http on loopback; no userinfo. Else InvalidEndpoint."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is no number
    except ValueError:
        raise ExchangeError("InvalidEndpoint") from None
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
    if not secure or not parts.hostname or "@" in parts.netloc:
        raise ExchangeError("InvalidEndpoint")  # plain http beyond loopback would put what it carries on the wire
    return parts


def exchange(
    url: str,
    method: str,
    headers: dict[str, str],
    body: bytes,
    timeout: float,
    max_bytes: int,
    tls: ssl.SSLContext | None = None,
) -> Answer:
    """Send one request and read its answer, all within ``timeout`` seconds; ExchangeError when that fails.

    ``headers`` must not hold ``Host``, ``Connection`` or ``Content-Length``;
    ``tls`` is the context for https (the system's CAs by default). A body
    longer than ``max_bytes`` is returned cut just past it, for the caller
    to refuse.
    """
    parts = checked_url(url)
    deadline = time.monotonic() + timeout
    https = parts.scheme == "https"
    lines = [
        f"{method} {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Connection: close",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    try:
        host = encoded_host(parts.hostname or "")
        with _connect(host, parts.port or (443 if https else 80), deadline) as raw:
            if not https:
                return _answer(raw, request, deadline, max_bytes)
            raw.settimeout(_left(deadline))  # the handshake as a whole, as CPython bounds it
            with (tls or ssl.create_default_context()).wrap_socket(raw, server_hostname=host) as secure:
                return _answer(secure, request, deadline, max_bytes)
    except OSError as exc:  # refused, unreachable, timed out, or a certificate that does not verify
        raise ExchangeError(type(exc).__name__) from None
    except UnicodeError:  # a host name IDNA cannot encode
        raise ExchangeError("InvalidEndpoint") from None


def encoded_host(host: str) -> bytes:
    """``host`` as the IDNA codec encodes it, UnicodeError where that codec fails (an empty or overlong label).

    The resolver and TLS take a name as bytes as they are: given a ``str``,
    each would load the codec (and ``unicodedata`` with it), millions of
    instructions on a cold start, to return an ASCII name unchanged. So only a
    name that is not ASCII is left to the codec.
    """
    if not host.isascii():
        return host.encode("idna")
    *inner, last = host.split(".")
    if not all(inner) or len(last) >= 64 or any(len(label) >= 64 for label in inner):
        raise UnicodeError(f"the host name {host!r} has an empty or overlong label")
    return host.encode("ascii")


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline passed")
    return left


def _connect(host: bytes, port: int, deadline: float) -> socket.socket:
    """A connection to the first of ``host``'s addresses that accepts one, all tries within the deadline.

    (``socket.create_connection`` gives each address the whole timeout.) The
    name lookup itself is the system resolver's, bounded by its own timeout.
    """
    failure: OSError = OSError(f"no address for {host!r}")
    for family, kind, protocol, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        connection = socket.socket(family, kind, protocol)
        try:
            connection.settimeout(_left(deadline))
            connection.connect(address)
            return connection
        except OSError as exc:
            connection.close()
            failure = exc
    raise failure


def _receive(connection: socket.socket, deadline: float) -> bytes:
    connection.settimeout(_left(deadline))
    return connection.recv(RECEIVE_BYTES)


def _answer(connection: socket.socket, request: bytes, deadline: float, max_bytes: int) -> Answer:
    connection.settimeout(_left(deadline))
    connection.sendall(request)
    received = bytearray()
    end = -1
    while end < 0:
        if len(received) > MAX_HEADER_BYTES:
            raise ExchangeError("MalformedAnswer")
        chunk = _receive(connection, deadline)
        if not chunk:
            raise ExchangeError("MalformedAnswer")
        searched_from = max(0, len(received) - 3)
        received += chunk
        end = received.find(b"\r\n\r\n", searched_from)
    status, headers = _head(bytes(received[:end]))
    body = received[end + 4 :]
    declared = headers.get("content-length")
    if declared is not None and not (0 < len(declared) <= 15 and declared.isascii() and declared.isdigit()):
        raise ExchangeError("MalformedAnswer")
    length = int(declared) if declared is not None else -1
    while (length < 0 or len(body) < length) and len(body) <= max_bytes:
        chunk = _receive(connection, deadline)
        if not chunk:
            break  # without a Content-Length, the answer ends when the server closes (Connection: close)
        body += chunk
    if 0 <= len(body) < length <= max_bytes:
        raise ExchangeError("MalformedAnswer")  # the server closed before the body it announced
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return status, headers, unchunked(body)
    return status, headers, bytes(body[:length] if length >= 0 else body)


def _head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *header_lines = head.split(b"\r\n")
    status = _status(status_line)
    if status is None:
        raise ExchangeError("MalformedAnswer")
    headers = {}
    for line in header_lines:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def _status(line: bytes) -> int | None:
    """The code of a status line ``HTTP/1.x NNN[ reason]`` (a reason without line feed), else None."""
    code, rest = line[9:12], line[12:]
    if line[:9] not in (b"HTTP/1.0 ", b"HTTP/1.1 ") or len(code) != 3 or not code.isdigit():
        return None
    if rest and (not rest.startswith(b" ") or b"\n" in rest):
        return None
    return int(code)


@cache
def _chunk_header() -> re.Pattern[bytes]:
    """A chunk's size, then its extensions; compiled on first use (most answers are not chunked)."""
    import re

    return re.compile(rb"([0-9A-Fa-f]{1,15})[ \t]*(?:;[^\r\n]*)?\r\n")


def unchunked(data: bytes | bytearray) -> bytes:
    """The body carried by a chunked transfer encoding, in linear time; MalformedAnswer when it is not one."""
    view = memoryview(data)
    pieces: list[memoryview] = []
    position = 0
    while True:
        header = _chunk_header().match(data, position)
        if header is None:
            raise ExchangeError("MalformedAnswer")
        size, start = int(header.group(1), 16), header.end()
        if size == 0:
            return b"".join(pieces)
        position = start + size + 2
        if data[position - 2 : position] != b"\r\n":
            raise ExchangeError("MalformedAnswer")  # cut short, or a chunk longer than it said
        pieces.append(view[start : position - 2])
