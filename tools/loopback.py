"""Servers the tools start on loopback: a free port, the wait until they listen, and their stop."""

from __future__ import annotations

import socket
import subprocess
import time


class NotListening(RuntimeError):
    """A server exited, or did not accept connections in time."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_until_listening(port: int, process: subprocess.Popen, timeout: float) -> None:
    """Block until ``process`` accepts TCP connections on ``port``; NotListening otherwise (and it is stopped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NotListening(f"it exited with status {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    stop(process)
    raise NotListening(f"it did not listen on port {port} within {timeout:.0f} s")


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate ``process`` and wait for it; kill it if it outlives ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
