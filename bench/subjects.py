"""What the benchmark measures: the functions, their floors and the baselines, as handlers to invoke.

Everything measured is a Lambda handler given by its dotted path, cold or
warm, with the same events: bare-api's functions (from ``template.yaml``),
the floor under each (:mod:`bench.floor`, with the same drivers the function
loads), and the two baselines for the routes they serve.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.replay import ReplayEvent

ROOT = Path(__file__).resolve().parent.parent

BARE_API = "bare-api"
BOTO3_SECRETS = "boto3 secrets"
PLAIN, PRODUCTION = "plain", "production"  # configurations: a plain local URI, or as deployed (see bench.production)
FLOOR = "floor"
INTERPRETER = "interpreter"
FASTAPI = "FastAPI+Mangum"
POWERTOOLS = "Powertools"
FLOOR_HANDLER = "bench.floor.lambda_handler"
FLOOR_DRIVERS = ("orjson", "pymongo", "jwt")
BASELINE_HANDLERS = {
    FASTAPI: "bench.baselines.fastapi_app.handler",
    POWERTOOLS: "bench.baselines.powertools_app.lambda_handler",
}
BASELINE_ROUTES = ("GET /health", "GET /me")
BOTO3_SECRETS_HANDLER = "bench.baselines.boto3_secrets.lambda_handler"


@dataclass(frozen=True)
class Subject:
    """One handler to measure, the environment it runs with, and the configuration that environment models.

    ``python``: the interpreter it runs on ("" for the harness's own); ``path``: folders put on ``PYTHONPATH``
    after the project's (another interpreter's dependencies, see :mod:`bench.runtimes`).
    """

    system: str
    name: str
    handler: str
    env: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    config: str = PLAIN
    python: str = ""
    path: str = ""

    @property
    def interpreter(self) -> str:
        return self.python or sys.executable

    @property
    def python_path(self) -> str:
        return os.pathsep.join(part for part in (str(ROOT), self.path) if part)

    @property
    def key(self) -> str:
        return f"{self.system}:{self.name}" + (f":{self.config}" if self.config != PLAIN else "")


def interpreter() -> Subject:
    """``python`` that imports and invokes nothing: the floor of every cold start."""
    return Subject(INTERPRETER, "python -c pass", "-")


def function(name: str, handler: str, env: dict[str, str]) -> Subject:
    return Subject(BARE_API, name, handler, env)


def floor(drivers: list[str], env: dict[str, str]) -> Subject:
    """The floor of a function that loads ``drivers``: those imports and one unavoidable call."""
    used = [driver for driver in FLOOR_DRIVERS if driver in drivers] or ["orjson"]
    return Subject(FLOOR, "+".join(used), FLOOR_HANDLER, {**env, "BENCH_FLOOR_DRIVERS": ",".join(used)})


def baselines(env: dict[str, str]) -> list[Subject]:
    return [Subject(system, "app", handler, env) for system, handler in BASELINE_HANDLERS.items()]


def serves_baseline(item: ReplayEvent) -> bool:
    """Whether the baselines answer this event: GET /health or GET /me, REST payload, no query string."""
    event = item.event
    has_query = bool(event.get("queryStringParameters") or event.get("multiValueQueryStringParameters"))
    return item.route in BASELINE_ROUTES and event.get("version") != "2.0" and not has_query


def production_function(name: str, handler: str, env: dict[str, str], variant: str) -> Subject:
    """A function as deployed, its secrets as ``variant`` says (such as "Secrets Manager")."""
    return Subject(BARE_API, f"{name} ({variant})", handler, env, PRODUCTION)


def production_floor(drivers: list[str], env: dict[str, str]) -> Subject:
    """The least any handler with these drivers does as deployed: over TLS to the database, with the same CA."""
    used = [driver for driver in FLOOR_DRIVERS if driver in drivers] or ["orjson"]
    return Subject(FLOOR, "+".join(used), FLOOR_HANDLER, {**env, "BENCH_FLOOR_DRIVERS": ",".join(used)}, PRODUCTION)


def boto3_secrets(env: dict[str, str]) -> Subject:
    """GET /me with the secret path bare-api had before: boto3 fetches MONGODB_URI's secret."""
    return Subject(BOTO3_SECRETS, "GET /me", BOTO3_SECRETS_HANDLER, env, PRODUCTION)
