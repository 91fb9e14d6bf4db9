"""A raw HTTP server on loopback for the tests: it answers exactly the bytes a test gives, however odd or slow.

Real HTTP servers only send well-formed answers; a client must also survive
what a broken or hostile server sends, so these tests write the bytes themselves.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable


def read_request(connection: socket.socket) -> bytes:
    """One request's head and body as the client sent it ("" when it sent nothing)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length and (chunk := connection.recv(65536)):
        body += chunk
    return head + b"\r\n\r\n" + body


def trickle(data: bytes, pause: float, size: int = 1) -> Callable[[socket.socket], None]:
    """A reply writing ``data`` ``size`` bytes at a time, ``pause`` seconds apart, until the client hangs up."""

    def reply(connection: socket.socket) -> None:
        for start in range(0, len(data), size):
            connection.sendall(data[start : start + size])
            time.sleep(pause)

    return reply


class RawServer:
    """Reads each request, then answers ``reply`` (bytes, or a function writing on the socket) and closes.

    ``requests`` holds every request received, in order.
    """

    def __init__(self, reply: bytes | Callable[[socket.socket], None], host: str = "127.0.0.1") -> None:
        self.reply = reply
        self.requests: list[bytes] = []
        self.listener = socket.create_server((host, 0))
        self.url = f"http://{host}:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            try:
                self.requests.append(read_request(connection))
                if callable(self.reply):
                    self.reply(connection)
                else:
                    connection.sendall(self.reply)
            except OSError:
                pass  # the client gave up

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self.listener.close()


def answer(status: str = "200 OK", body: bytes = b"{}", headers: bytes | None = None) -> bytes:
    """An HTTP/1.1 answer; ``headers`` replaces the Content-Length line when given."""
    head = headers if headers is not None else b"Content-Length: %d\r\n" % len(body)
    return b"HTTP/1.1 " + status.encode() + b"\r\n" + head + b"\r\n" + body
