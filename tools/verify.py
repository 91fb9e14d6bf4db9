"""What only a deployed stage can answer, checked against one: one PASS or FAIL line per check.

    make verify URL=<stage url> [TOKEN=<jwt>] [ORIGIN=<allowed browser origin>]
    python -m tools.verify --env prod            # the stack's ApiUrl, SMOKE_TOKEN and CORS_ALLOW_ORIGINS

The routes come from template.yaml (an open GET route, the guarded GET routes
without path parameters) and the statuses from openapi.yaml, so the checks
hold for any set of resources:

- latency: the first request (a cold start, after a deploy) and warm requests;
- API Gateway's own answers: a guarded route without a token or with a made-up
  one answers 401 and an unknown path 403 or 404 (REST or HTTP API), each with
  a JSON ``message`` body; with ``ORIGIN``, each carries
  ``Access-Control-Allow-Origin`` for it, and a preflight is answered;
- with ``TOKEN``: every guarded route answers 200 with a status openapi.yaml
  declares (the contract), and a second route answers 200 from the authorizer's
  cached answer for the same token (a policy cached for one route only would
  answer 403).

Exits 1 when any check fails. ``make serve`` passes the same checks.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

import yaml

from tools import cli, samtemplate

OPENAPI = samtemplate.ROOT / "openapi.yaml"
TIMEOUT_SECONDS = 30
FIRST_REQUEST_LIMIT_MS = 10_000  # a cold start with its secret fetch and database handshake, as the Timeout allows
WARM_LIMIT_MS = 1_000
WARM_REQUESTS = 5
MADE_UP_TOKEN = "Bearer verify.made-up.token"


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes
    milliseconds: float


def request(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> Answer:
    """One request; any status is an answer (a network failure raises OSError)."""
    started = time.perf_counter()
    prepared = urllib.request.Request(url, method=method, headers={"User-Agent": "bare-api-verify", **(headers or {})})
    try:
        with urllib.request.urlopen(prepared, timeout=TIMEOUT_SECONDS) as response:
            status, headers_of, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as answer:
        status, headers_of, body = answer.code, answer.headers, answer.read()
    elapsed = (time.perf_counter() - started) * 1000
    return Answer(status, {key.lower(): value for key, value in headers_of.items()}, body, elapsed)


def routes(template: dict) -> tuple[str, list[str]]:
    """An open GET path and the guarded GET paths without path parameters, from the template's events."""
    declared = [
        (event.get("Path", ""), (event.get("Auth") or {}).get("Authorizer") != "NONE")
        for kind in ("Api", "HttpApi")
        for _, event in samtemplate.events(template, kind)
        if str(event.get("Method", "")).upper() == "GET" and "{" not in event.get("Path", "{")
    ]
    open_paths = sorted(path for path, guarded in declared if not guarded)
    return (open_paths[0] if open_paths else ""), sorted({path for path, guarded in declared if guarded})


def declared_statuses(path: str, document: dict) -> set[int]:
    responses = document.get("paths", {}).get(path, {}).get("get", {}).get("responses", {})
    return {int(status) for status in responses if str(status).isdigit()}


def has_message(answer: Answer) -> bool:
    try:
        return isinstance(json.loads(answer.body).get("message"), str)
    except (ValueError, AttributeError):
        return False


def line(passed: bool, what: str, got: str = "") -> tuple[bool, str]:
    return passed, f"{'PASS' if passed else 'FAIL'} {what}{'' if passed or not got else f' (got {got})'}"


def latency_checks(base: str, open_path: str) -> list[tuple[bool, str]]:
    first = request(base + open_path)
    warm = [request(base + open_path) for _ in range(WARM_REQUESTS)]
    median = statistics.median(answer.milliseconds for answer in warm)
    return [
        line(
            first.status == 200 and first.milliseconds < FIRST_REQUEST_LIMIT_MS,
            f"first request: GET {open_path} answers 200 in {first.milliseconds:.0f} ms (limit "
            f"{FIRST_REQUEST_LIMIT_MS} ms)",
            str(first.status),
        ),
        line(
            all(answer.status == 200 for answer in warm) and median < WARM_LIMIT_MS,
            f"warm requests: GET {open_path} median {median:.0f} ms over {WARM_REQUESTS} (limit {WARM_LIMIT_MS} ms)",
            ",".join(str(answer.status) for answer in warm),
        ),
    ]


def gateway_checks(base: str, guarded: str, origin: str) -> list[tuple[bool, str]]:
    sent = {"Origin": origin} if origin else {}
    answers = {
        "no token": (request(base + guarded, headers=sent), (401,)),
        "a made-up token": (request(base + guarded, headers={**sent, "Authorization": MADE_UP_TOKEN}), (401,)),
        "an unknown path": (request(base + "/verify-no-such-path", headers=sent), (403, 404)),
    }
    found = []
    for label, (answer, statuses) in answers.items():
        target = f"GET {guarded} with {label}" if label != "an unknown path" else "GET of an unknown path"
        found.append(
            line(
                answer.status in statuses and has_message(answer),
                f"gateway answer: {target} answers {' or '.join(map(str, statuses))} with a JSON message",
                f"{answer.status} {answer.body[:80]!r}",
            )
        )
        if origin:
            found.append(
                line(
                    answer.headers.get("access-control-allow-origin") == origin,
                    f"gateway answer CORS: {target} carries Access-Control-Allow-Origin {origin}",
                    str(answer.headers.get("access-control-allow-origin")),
                )
            )
    if origin:
        preflight = request(
            base + guarded,
            "OPTIONS",
            {
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        found.append(
            line(
                200 <= preflight.status < 300 and preflight.headers.get("access-control-allow-origin") == origin,
                f"preflight: OPTIONS {guarded} from {origin} is allowed",
                f"{preflight.status} {preflight.headers.get('access-control-allow-origin')}",
            )
        )
    return found


def token_checks(base: str, guarded: list[str], token: str, document: dict) -> list[tuple[bool, str]]:
    bearer = {"Authorization": token if token.lower().startswith("bearer ") else f"Bearer {token}"}
    found = []
    for index, path in enumerate(guarded):
        answer = request(base + path, headers=bearer)
        what = "authorizer cache: " if index else "token: "
        found.append(
            line(
                answer.status == 200,
                f"{what}GET {path} with the token answers 200"
                + (" (the cached answer covers this route)" if index else ""),
                str(answer.status),
            )
        )
        statuses = declared_statuses(path, document)
        found.append(
            line(
                answer.status in statuses
                and answer.headers.get("content-type", "").startswith(("application/json", "application/problem+json")),
                f"contract: GET {path} answers a status and type openapi.yaml declares",
                f"{answer.status} {answer.headers.get('content-type')}",
            )
        )
    return found


def verify(
    base: str, token: str = "", origin: str = "", template: dict | None = None, document: dict | None = None
) -> list[tuple[bool, str]]:
    """``(passed, line)`` for every check of the stage at ``base``."""
    template = template if template is not None else samtemplate.load()
    document = document if document is not None else yaml.safe_load(OPENAPI.read_text())
    base = base.rstrip("/")
    open_path, guarded = routes(template)
    found = latency_checks(base, open_path) if open_path else []
    if guarded:
        found += gateway_checks(base, guarded[0], origin)
        if token:
            found += token_checks(base, guarded, token, document)
    return found


def stage_url(environment: str) -> str:
    """The ApiUrl output of the environment's stack."""
    import boto3

    from tools import deploy
    from tools.checks import sam

    region = deploy.require_credentials()
    return deploy.api_url(
        boto3.client("cloudformation", region_name=region), sam.deploy_settings(environment)["stack_name"]
    )


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="make verify", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="the stage's base URL")
    target.add_argument("--env", help="a samconfig.toml environment: its stack's ApiUrl")
    parser.add_argument(
        "--token", default=os.environ.get("SMOKE_TOKEN", ""), help="a valid token (default: $SMOKE_TOKEN)"
    )
    parser.add_argument(
        "--origin",
        default=os.environ.get("CORS_ALLOW_ORIGINS", "").split(",")[0].strip(),
        help="an allowed browser origin (default: the first of $CORS_ALLOW_ORIGINS)",
    )
    parser.add_argument("--template", type=Path, default=samtemplate.TEMPLATE)
    args = parser.parse_args(argv)
    if args.url and not args.url.startswith(("https://", "http://")):
        raise cli.CommandError(f"URL must start with https:// (or http:// for make serve), got {args.url!r}")
    base = args.url or stage_url(args.env)
    results = verify(base, args.token.strip(), args.origin, samtemplate.load(args.template))
    for _, text in results:
        print(text)
    failed = sum(not passed for passed, _ in results)
    print(f"verify {base}: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(cli.run(main, "make verify"))
