"""A user's first request after a deploy, and warm requests, through the local gateway in each flavour.

    python -m bench.first_request [--samples 3] [--requests 100]    (make bench runs it too)

Each sample starts a fresh gateway (every worker cold, as after a deploy) and
sends ``GET /me`` with a valid token: on the REST API the authorizer function
cold-starts, then the function; with the HTTP API's JWT authorizer only the
function does (the gateway checks the RS256 token against a loopback issuer's
JWKS, as API Gateway would, and API Gateway's own time is not billed as Lambda
time). Then ``--requests`` warm requests with the same token. Times are
client-side, loopback HTTP included.

:func:`cost_model` turns the measured warm durations into a price per
million requests, with the prices' sources and dates in :data:`PRICES`.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.stats import summary
from tools import cli, loopback

ROOT = Path(__file__).resolve().parent.parent
AUDIENCE = "bare-api"
START_SECONDS = 30
PATH = "/me"  # the route measured: a GET behind the authorizer that reaches the database
FLAVOURS = {  # label -> gateway arguments; "{issuer}" is the loopback issuer's URL
    "REST API + Lambda authorizer": (),
    "HTTP API + JWT authorizer": (
        "--api",
        "http",
        "--authorizer",
        "jwt",
        "--parameter",
        "JwtIssuer={issuer}",
        "--parameter",
        f"JwtAudience={AUDIENCE}",
    ),
    "HTTP API + Lambda authorizer": ("--api", "http"),
}
# Prices (us-east-1, on-demand, first tier): value, what, AWS's page, and where and when the figure was checked.
PRICES = {
    "rest_per_million": (
        3.50,
        "API Gateway, REST API requests per million (first 333 million a month)",
        "https://aws.amazon.com/api-gateway/pricing/",
        "2026-12-02, as quoted from that page by https://amnic.com/blogs/aws-api-gateway-pricing",
    ),
    "http_per_million": (
        1.00,
        "API Gateway, HTTP API requests per million (first 300 million a month)",
        "https://aws.amazon.com/api-gateway/pricing/",
        "2026-12-02, as quoted from that page by https://amnic.com/blogs/aws-api-gateway-pricing",
    ),
    "lambda_request_per_million": (
        0.20,
        "Lambda requests per million",
        "https://aws.amazon.com/lambda/pricing/",
        "2026-12-02, as quoted by https://cloudchipr.com/blog/aws-lambda-pricing",
    ),
    "lambda_gb_second_arm": (
        0.0000133334,
        "Lambda duration per GB-second, Arm (first 7.5 billion GB-s a month)",
        "https://aws.amazon.com/lambda/pricing/",
        "2026-12-02, as quoted by https://cloudchipr.com/blog/aws-lambda-pricing",
    ),
}
FUNCTION_MEMORY_MB, AUTHORIZER_MEMORY_MB = 1024, 512  # template.yaml's Globals and AuthorizerFunction


class LoopbackIssuer:
    """An OpenID issuer on loopback: a discovery document, a JWKS, and RS256 tokens signed with its key."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from jwt.algorithms import RSAAlgorithm

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = {**RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True), "kid": "bench", "alg": "RS256"}
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler({"keys": [jwk]}))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/issuer"

    def _handler(self, jwks: dict):
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                discovery = self.path.endswith("/.well-known/openid-configuration")
                body = json.dumps(
                    {"issuer": issuer.url, "jwks_uri": issuer.url + "/keys"} if discovery else jwks
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def token(self, sub: str, ttl: int = 3600, **claims) -> str:
        import jwt

        now = int(time.time())
        payload = {"sub": sub, "iss": self.url, "aud": AUDIENCE, "iat": now, "exp": now + ttl, **claims}
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": "bench"})

    def __enter__(self) -> LoopbackIssuer:
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _get(port: int, token: str, path: str = PATH) -> float:
    """Milliseconds for one ``GET path`` on a fresh connection; RuntimeError unless it answers 200."""
    started = time.perf_counter()
    connection = HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}: {body[:200]!r}")
    return (time.perf_counter() - started) * 1000


def cold_starts(log: str, path: str = PATH) -> int:
    """How many functions the first request cold-started, from the gateway's request line."""
    line = next((line for line in log.splitlines() if f" GET {path} " in line), "")
    return len(re.findall(r"cold start", line))


def sample(
    arguments: tuple[str, ...], token: str, requests: int, environment: dict[str, str], folder: Path, path: str = PATH
) -> dict:
    """One fresh gateway: the first request's time, the cold starts it caused, and ``requests`` warm times."""
    port = loopback.free_port()
    log_path = folder / f"gateway-{uuid.uuid4().hex[:6]}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.gateway", "--port", str(port), "--no-reload", *arguments],
            cwd=ROOT,
            env={**os.environ, **environment},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            loopback.wait_until_listening(port, process, START_SECONDS)
            first = _get(port, token, path)
            warm = [_get(port, token, path) for _ in range(requests)]
        finally:
            process.terminate()
            process.wait(timeout=15)
    log_text = log_path.read_text(errors="replace")
    return {"first_ms": first, "warm_ms": warm, "cold_starts": cold_starts(log_text, path)}


def measure(
    samples: int, requests: int, environment: dict[str, str], path: str = PATH, gateway: tuple[str, ...] = ()
) -> list[dict]:
    """Per flavour: the first request and warm requests, ``samples`` fresh gateways each, flavours alternating.

    ``path`` is the route asked (a GET behind the authorizer); ``gateway``, more arguments for every gateway
    (``--template`` another template)."""
    from tools.local_token import mint_local_token

    collected: dict[str, list[dict]] = {label: [] for label in FLAVOURS}
    with LoopbackIssuer() as issuer, tempfile.TemporaryDirectory(prefix="bench-first-") as folder:
        for _ in range(samples):
            for label, template in FLAVOURS.items():
                arguments = (*gateway, *(part.replace("{issuer}", issuer.url) for part in template))
                sub = f"bench-{uuid.uuid4().hex[:8]}"
                token = issuer.token(sub) if "JWT" in label else mint_local_token(sub)
                collected[label].append(sample(arguments, token, requests, environment, Path(folder), path))
    return [
        {
            "flavour": label,
            "first_ms": summary([run["first_ms"] for run in runs]),
            "warm_ms": summary([ms for run in runs for ms in run["warm_ms"]]),
            "cold_starts": max(run["cold_starts"] for run in runs),
        }
        for label, runs in collected.items()
    ]


def table(rows: list[dict]) -> str:
    lines = [
        "First request after a deploy, then warm, GET /me through the local gateway (client ms, median [p25-p75])",
        f"  {'flavour':<32}{'first request':>24}{'cold starts':>13}{'warm':>22}",
    ]
    for row in rows:
        first, warm = row["first_ms"], row["warm_ms"]
        lines.append(
            f"  {row['flavour']:<32}{first['p50']:>10.1f} [{first['p25']:.1f}-{first['p75']:.1f}]"
            f"{row['cold_starts']:>9}{warm['p50']:>12.2f} [{warm['p25']:.2f}-{warm['p75']:.2f}]"
        )
    return "\n".join(lines)


def _billed_gb_seconds(duration_ms: float, memory_mb: int) -> float:
    return math.ceil(max(duration_ms, 1.0)) / 1000 * memory_mb / 1024


def cost_model(function_ms: float, authorizer_ms: float, hit_rate: float) -> list[dict]:
    """Dollars per million requests, per flavour: API Gateway, the function, and authorizer invocations.

    ``function_ms`` and ``authorizer_ms`` are warm invocation durations (billed per
    started millisecond); ``hit_rate`` is the authorizer cache's share of requests
    that invoke no authorizer.
    """
    price = {name: value[0] for name, value in PRICES.items()}
    function = (
        price["lambda_request_per_million"]
        + 1e6 * _billed_gb_seconds(function_ms, FUNCTION_MEMORY_MB) * price["lambda_gb_second_arm"]
    )
    authorizer = (1 - hit_rate) * (
        price["lambda_request_per_million"]
        + 1e6 * _billed_gb_seconds(authorizer_ms, AUTHORIZER_MEMORY_MB) * price["lambda_gb_second_arm"]
    )
    rows = [
        ("REST API + Lambda authorizer", price["rest_per_million"], authorizer),
        ("HTTP API + JWT authorizer", price["http_per_million"], 0.0),
        ("HTTP API + Lambda authorizer", price["http_per_million"], authorizer),
    ]
    return [
        {"flavour": label, "api": api, "function": function, "authorizer": auth, "total": api + function + auth}
        for label, api, auth in rows
    ]


def cost_table(rows: list[dict], function_ms: float, authorizer_ms: float, hit_rate: float) -> str:
    lines = [
        f"Cost per million requests, USD (function {function_ms:.2f} ms at {FUNCTION_MEMORY_MB} MB, authorizer "
        f"{authorizer_ms:.2f} ms at {AUTHORIZER_MEMORY_MB} MB, arm64, authorizer cache hit rate "
        f"{hit_rate:.0%})",
        f"  {'flavour':<32}{'API Gateway':>12}{'function':>10}{'authorizer':>12}{'total':>8}",
    ]
    lines += [
        f"  {row['flavour']:<32}{row['api']:>12.2f}{row['function']:>10.2f}{row['authorizer']:>12.2f}"
        f"{row['total']:>8.2f}"
        for row in rows
    ]
    lines += [f"  {value[0]} USD: {value[1]} ({value[2]}; checked {value[3]})" for value in PRICES.values()]
    return "\n".join(lines)


def warm_duration_ms(results: dict, function: str, event: str) -> float | None:
    """The median warm invocation of ``function`` on ``event`` in a ``make bench`` run's results, if measured."""
    for entry in results.get("warm", []):
        if entry.get("function") == function and entry.get("event") == event and entry.get("system") == "bare-api":
            return entry["summary_us"]["p50"] / 1000
    return None


def report(results: dict) -> str:
    """The first-request table and the cost model for a ``make bench`` run's results ("" when not measured)."""
    rows = results.get("first_request")
    if not rows:
        return ""
    function_ms = warm_duration_ms(results, "MeFunction", "me.json") or rows[1]["warm_ms"]["p50"]
    authorizer_ms = warm_duration_ms(results, "AuthorizerFunction", "authorizer-http.json") or 1.0
    hit_rate = results.get("settings", {}).get("authorizer_hit_rate", 0.9)
    costs = cost_table(cost_model(function_ms, authorizer_ms, hit_rate), function_ms, authorizer_ms, hit_rate)
    return table(rows) + "\n\n" + costs


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="python -m bench.first_request", description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=cli.positive, default=3, help="fresh gateways per flavour")
    parser.add_argument("--requests", type=cli.positive, default=100, help="warm requests per gateway")
    parser.add_argument("--function-ms", type=float, default=None, help="warm function duration for the cost model")
    parser.add_argument("--authorizer-ms", type=float, default=1.0, help="warm authorizer duration")
    parser.add_argument("--hit-rate", type=float, default=0.9, help="authorizer cache hit rate (0-1)")
    args = parser.parse_args(argv)
    environment = {"STAGE": "local"}
    rows = measure(args.samples, args.requests, environment)
    print(table(rows))
    function_ms = args.function_ms if args.function_ms is not None else rows[1]["warm_ms"]["p50"]
    print()
    print(
        cost_table(
            cost_model(function_ms, args.authorizer_ms, args.hit_rate), function_ms, args.authorizer_ms, args.hit_rate
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main, "python -m bench.first_request"))
