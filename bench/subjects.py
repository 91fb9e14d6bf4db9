"""What the benchmark measures: the functions, their floors and the baselines, as handlers to invoke.

Everything measured is a Lambda handler given by its dotted path, cold or
warm, with the same events: bare-api's functions (from ``template.yaml``),
the floor under each (:mod:`bench.floor`, with the same drivers the function
loads), and the two baselines for the routes they serve.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.replay import ReplayEvent

BARE_API = "bare-api"
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


@dataclass(frozen=True)
class Subject:
    """One handler to measure, and the environment it runs with."""

    system: str
    name: str
    handler: str
    env: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> str:
        return f"{self.system}:{self.name}"


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
