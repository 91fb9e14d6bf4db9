"""``make bench-http``: measure a deployed API end to end over HTTPS, with keep-alive and concurrency.

    python -m bench.http_load --url https://abc123.execute-api.eu-west-1.amazonaws.com/dev/me \\
        --token "$TOKEN" [--requests 200] [--concurrency 4] [--method GET] [--warmup 1]

Each of ``--concurrency`` threads opens one connection, sends ``--warmup``
untimed requests on it (TLS handshake, a warm container), then takes
requests from the shared count one after another on the same connection,
reconnecting only when the server closes it. Every request is bounded by
``--timeout``, so the run ends by itself. Prints the latency percentiles,
throughput, status counts and how many connections were opened.
"""

from __future__ import annotations

import http.client
import os
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.stats import summary
from tools import cli


@dataclass
class Tally:
    """What the threads saw, shared under a lock."""

    remaining: int
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> bool:
        with self.lock:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True

    def record(self, status: str, latency_ms: float | None) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if latency_ms is not None:
                self.latencies_ms.append(latency_ms)

    def connected(self) -> None:
        with self.lock:
            self.connections += 1


class Target:
    """Where requests go: a connection factory, the path and the headers."""

    def __init__(self, url: str, token: str, method: str, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the URL must be http:// or https://, got {url!r}")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.method = method.upper()
        self.timeout = timeout
        self.headers = {"Accept": "application/json", "User-Agent": "bare-api-bench-http"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.tls = ssl.create_default_context() if self.scheme == "https" else None

    def connect(self) -> http.client.HTTPConnection:
        if self.tls is not None:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self.tls)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def send(self, connection: http.client.HTTPConnection) -> tuple[int, bool]:
        """One request on ``connection``; its status and whether the server will close the connection."""
        connection.request(self.method, self.path, headers=self.headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.will_close


def _worker(target: Target, tally: Tally, warmup: int) -> None:
    """Send requests on one connection until the shared count runs out; the first ``warmup`` are not timed."""
    connection, sent = None, 0
    while sent < warmup or tally.take():
        timed = sent >= warmup
        sent += 1
        if connection is None:
            connection = target.connect()
            tally.connected()
        started = time.perf_counter()
        try:
            status, closing = target.send(connection)
        except (OSError, http.client.HTTPException) as exc:
            if timed:
                tally.record(f"error {type(exc).__name__}", None)
            connection.close()
            connection = None
            continue
        if timed:
            tally.record(str(status), (time.perf_counter() - started) * 1000)
        if closing:
            connection.close()
            connection = None
    if connection is not None:
        connection.close()


def load(
    url: str,
    token: str = "",
    requests: int = 200,
    concurrency: int = 4,
    method: str = "GET",
    warmup: int = 1,
    timeout: float = 10.0,
) -> dict:
    """Send ``requests`` timed requests from ``concurrency`` keep-alive connections; the results as a dict."""
    if requests < 1 or concurrency < 1 or warmup < 0:
        raise ValueError("requests and concurrency must be at least 1, warmup at least 0")
    target = Target(url, token, method, timeout)
    tally = Tally(remaining=requests)
    threads = [threading.Thread(target=_worker, args=(target, tally, warmup), daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "url": url,
        "requests": requests,
        "concurrency": concurrency,
        "connections": tally.connections,
        "statuses": tally.statuses,
        "seconds": elapsed,
        "requests_per_second": len(tally.latencies_ms) / elapsed if elapsed else 0.0,
        "latency_ms": summary(tally.latencies_ms) if tally.latencies_ms else None,
    }


def render(result: dict) -> str:
    statuses = ", ".join(f"{status} x{count}" for status, count in sorted(result["statuses"].items()))
    lines = [
        f"{result['url']}: {result['requests']} requests on {result['concurrency']} keep-alive connections "
        f"({result['connections']} opened) in {result['seconds']:.2f} s, {result['requests_per_second']:.1f} req/s",
        f"statuses: {statuses}",
    ]
    latency = result["latency_ms"]
    if latency:
        lines.append(
            "latency ms: " + "  ".join(f"{name} {latency[name]:.1f}" for name in ("min", "p50", "p95", "p99", "max"))
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(
        prog="make bench-http", description="Load a deployed API over HTTP(S) with keep-alive connections."
    )
    parser.add_argument("--url", default=os.environ.get("URL", ""), help="the full URL, such as .../dev/me")
    parser.add_argument("--token", default=os.environ.get("TOKEN", ""), help="bearer token (optional)")
    parser.add_argument("--requests", type=cli.positive, default=200, help="timed requests in all")
    parser.add_argument("--concurrency", type=cli.positive, default=4, help="connections, one thread each")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--warmup", type=cli.whole_number, default=1, help="untimed requests per connection first")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("say where: --url https://... (URL=...)")
    try:
        result = load(args.url, args.token, args.requests, args.concurrency, args.method, args.warmup, args.timeout)
    except ValueError as exc:
        print(f"bench-http: {exc}", file=sys.stderr)
        return 2
    print(render(result))
    return 0 if result["latency_ms"] else 1


if __name__ == "__main__":
    sys.exit(main())
