"""A TCP proxy on loopback that models a network: every chunk arrives ``delay`` seconds late, each way.

    proxy = DelayProxy(target_port=27017, delay=0.005)   # 5 ms per direction: a 10 ms round trip
    MongoClient(f"mongodb://127.0.0.1:{proxy.port}/")
    proxy.close()

Bytes pass unchanged (TLS goes through end to end), in order, each chunk held
until ``delay`` after it was read; while ``stalled`` is set, replies (server to
client) are held, like a server stuck mid-query. The proxy counts connections and records
when each chunk arrived (``time.monotonic_ns()``, the clock the benchmark's
processes share), which is how the benchmark dates a cold start's network
phases from outside the process.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections import namedtuple

CHUNK_BYTES = 65536
UP, DOWN = "up", "down"  # client to server, server to client
Chunk = namedtuple("Chunk", "arrived_ns connection direction size")


class DelayProxy:
    """Listens on 127.0.0.1:``port`` and forwards each connection to 127.0.0.1:``target_port``."""

    def __init__(self, target_port: int, delay: float = 0.0) -> None:
        self.target_port = target_port
        self.delay = delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._lock = threading.Lock()
        self.stalled = threading.Event()
        self.accepted_ns: list[int] = []
        self.chunks: list[Chunk] = []
        threading.Thread(target=self._accept, name="delay-proxy", daemon=True).start()

    @property
    def connections(self) -> int:
        return len(self.accepted_ns)

    def reset(self) -> None:
        """Forget the connections and chunks seen so far."""
        with self._lock:
            self.accepted_ns.clear()
            self.chunks.clear()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self.accepted_ns.append(time.monotonic_ns())
                number = len(self.accepted_ns) - 1
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for source, sink, direction in ((client, server, UP), (server, client, DOWN)):
                pending: queue.Queue = queue.Queue()
                threading.Thread(target=self._read, args=(source, pending, number, direction), daemon=True).start()
                closing = (client, server) if direction == DOWN else ()
                threading.Thread(target=self._write, args=(sink, pending, direction, closing), daemon=True).start()

    def _read(self, source: socket.socket, pending: queue.Queue, number: int, direction: str) -> None:
        try:
            while data := source.recv(CHUNK_BYTES):
                arrived = time.monotonic_ns()
                with self._lock:
                    self.chunks.append(Chunk(arrived, number, direction, len(data)))
                pending.put((arrived, data))
        except OSError:
            pass
        pending.put((time.monotonic_ns(), b""))

    def _write(
        self, sink: socket.socket, pending: queue.Queue, direction: str, closing: tuple[socket.socket, ...]
    ) -> None:
        """Send each chunk ``delay`` after it arrived; at the end, pass the close on (and close ``closing``)."""
        try:
            while data := self._next(pending):
                while direction == DOWN and self.stalled.is_set():
                    time.sleep(0.01)
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        for sock in closing:
            sock.close()

    def _next(self, pending: queue.Queue) -> bytes:
        arrived, data = pending.get()
        wait = arrived / 1e9 + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        return data

    def close(self) -> None:
        self.listener.close()
