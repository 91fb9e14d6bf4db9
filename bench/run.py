"""``make bench``: replay the events against the functions, their floors and the baselines, and report.

    python -m bench.run [--events "events/me.json events/v2/*.json"] [--cold-samples 10] [--warm-count 2000]

Without ``MONGODB_URI`` it starts its own local database server (FerretDB on
a free port, data in a temporary folder, with a TLS listener) and the
production configuration around it (:mod:`bench.production`: secrets in a
local AWS endpoint over HTTPS, the database over TLS, a modelled network);
with it, it uses the database ``BENCH_DATABASE`` (default ``bare_api_bench``)
there, which it empties first and drops at the end, and measures the plain
configuration only. Prints the tables and the PASS/FAIL lines; writes the raw
numbers (JSON), the tables and the chart (PNG) under ``results/``; then
refreshes the docs page ``docs/benchmark.md`` and its chart
``docs/benchmark.png`` with this run (``--no-docs`` leaves them as they are).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from bench import cold, costs, cpus, first_request, production, replay, report, subjects, warm
from bench.stats import summary
from shared import tokens
from tools import cli, localdb, loopback

ROOT = Path(__file__).resolve().parent.parent

RESULTS = ROOT / "results"
DOCS_PAGE = ROOT / "docs" / "benchmark.md"
CHART_COPY = ROOT / "docs" / "benchmark.png"
PYCACHE = ROOT / ".local" / "bench" / "pycache"
ARTIFACTS = ROOT / "build"
FIRST_REQUEST_SAMPLES, FIRST_REQUEST_WARM = 5, 200  # fresh gateways per API flavour, warm requests on each


@dataclass
class Group:
    """One function and everything measured beside it."""

    function: str
    events: list[replay.ReplayEvent]
    subject: subjects.Subject
    floor: subjects.Subject | None = None
    baselines: list[subjects.Subject] = field(default_factory=list)

    @property
    def cold_event(self) -> replay.ReplayEvent:
        return replay.cold_event(self.events)

    @property
    def route(self) -> str:
        return self.cold_event.route


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = cli.Parser(prog="make bench", description="Cold start and warm latency, against floors and baselines.")
    parser.add_argument("--events", default=os.environ.get("EVENTS", ""), help="event files or globs (default: all)")
    parser.add_argument("--cold-samples", type=cli.positive, default=10, help="fresh interpreters per subject (>= 1)")
    parser.add_argument("--warm-count", type=cli.positive, default=2000, help="timed warm invocations per event")
    parser.add_argument("--warmup", type=cli.whole_number, default=200, help="untimed invocations per event first")
    parser.add_argument("--chunk", type=cli.positive, default=100, help="invocations per turn when alternating")
    parser.add_argument("--no-baselines", action="store_true", help="skip FastAPI+Mangum and Powertools")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for JSON, table and chart")
    parser.add_argument("--no-chart", action="store_true", help="skip the PNG chart (needs matplotlib)")
    parser.add_argument("--docs", type=Path, default=DOCS_PAGE, help="the page this run rewrites (docs/benchmark.md)")
    parser.add_argument(
        "--no-docs", action="store_true", help="leave the docs page and its chart (docs/benchmark.png) as they are"
    )
    parser.add_argument(
        "--delay-ms",
        type=float,
        default=5.0,
        help="modelled network delay per direction to the database and the secrets (production rows)",
    )
    parser.add_argument("--no-production", action="store_true", help="skip the production configuration")
    args = parser.parse_args(argv)
    if min(args.cold_samples, args.warm_count, args.chunk) < 1 or args.warmup < 0:
        parser.error("sample counts must be positive")
    if args.delay_ms < 0:
        parser.error("--delay-ms must be 0 or more")
    return args


@contextmanager
def database_uri() -> Iterator[tuple[str, str]]:
    """A MongoDB URI and a label for it: ``MONGODB_URI``, or a plain local server started for the caller."""
    if os.environ.get("MONGODB_URI"):
        yield os.environ["MONGODB_URI"], "MONGODB_URI"
        return
    with tempfile.TemporaryDirectory(prefix="bench-db-") as data_dir:
        port = loopback.free_port()
        process = localdb.start(port, Path(data_dir))
        try:
            yield f"mongodb://127.0.0.1:{port}/", "local FerretDB (SQLite) on loopback"
        finally:
            localdb.stop(process)


@contextmanager
def databases(args: argparse.Namespace) -> Iterator[tuple[str, str, production.World | None]]:
    """A MongoDB URI, a label for it and the production world: ``MONGODB_URI`` (no world), or servers of this run."""
    if os.environ.get("MONGODB_URI") or args.no_production:
        with database_uri() as (uri, label):
            yield uri, label, None
        return
    with production.world(args.delay_ms) as (world, uri):
        yield uri, "local FerretDB (SQLite) on loopback", world


def function_environment(uri: str, database: str) -> dict[str, str]:
    """What every function (and floor and baseline) runs with: local stage, this database, the local JWT secret."""
    return {
        "STAGE": "local",
        "APP_NAME": "bare-api",
        "LOG_LEVEL": "INFO",
        "LOCAL_AUTH": "false",
        "MONGODB_URI": uri,
        "MONGODB_DATABASE": database,
        "JWT_SECRET": tokens.LOCAL_SECRET,
        "JWT_ISSUER": tokens.LOCAL_ISSUER,
        "JWT_AUDIENCE": tokens.LOCAL_AUDIENCE,
    }


def progress(label: str):
    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\r{label}: {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def machine() -> dict:
    """What the numbers were measured on."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model or platform.processor(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()),
        "commit": commit.stdout.strip(),
    }


def artifact_bytes(function: str) -> int | None:
    """The size of the function's deployment zip from ``make build`` (``build/<id>.zip``), if built."""
    artifact = ARTIFACTS / f"{function}.zip"
    return artifact.stat().st_size if artifact.is_file() else None


def write_events(events: list[replay.ReplayEvent], folder: Path) -> dict[str, Path]:
    files = {}
    for index, item in enumerate(events):
        files[item.name] = folder / f"{index:02d}-{Path(item.name).name}"
        files[item.name].write_text(item.as_json())
    return files


@dataclass
class ProductionGroup:
    """One function as deployed: its cold event (with a token the deployed authorizer accepts) and its subjects."""

    function: str
    route: str
    event: replay.ReplayEvent
    event_file: Path
    subjects: list[subjects.Subject]


def production_event(item: replay.ReplayEvent) -> replay.ReplayEvent:
    """``item``, its bearer token replaced by one the production authorizer accepts."""
    sent = [item.event.get("authorizationToken") or ""]
    sent += [str(value) for name, value in (item.event.get("headers") or {}).items() if name.lower() == "authorization"]
    text = item.as_json()
    for token in {value.partition(" ")[2] for value in sent} - {""}:
        text = text.replace(token, production.authorizer_token())
    return replace(item, event=json.loads(text))


def production_groups(
    groups: list[Group], world: production.World, env: dict[str, str], folder: Path
) -> list[ProductionGroup]:
    """The production subjects of every function in the run: SM (and SSM) references, floors, the boto3 path."""
    deployed = world.env(env)
    found = []
    for group in groups:
        item = production_event(group.cold_event)
        event_file = folder / f"production-{Path(item.name).name}"
        event_file.write_text(item.as_json())
        chosen = [subjects.production_function(group.function, item.handler, deployed, "Secrets Manager")]
        if group.route == "GET /me":
            chosen += [
                subjects.production_function(group.function, item.handler, world.ssm_env(env), "SSM"),
                subjects.boto3_secrets(deployed),
                subjects.production_floor(["orjson", "pymongo"], world.floor_env(env)),
            ]
        elif group.route == "authorizer":
            plain_secret = {**deployed, "JWT_SECRET": production.JWT_SECRET}
            chosen.append(subjects.production_floor(["orjson", "jwt"], plain_secret))
        found.append(ProductionGroup(group.function, group.route, item, event_file, chosen))
    return found


def build_groups(events: list[replay.ReplayEvent], env: dict[str, str], baselines: bool) -> list[Group]:
    groups = []
    for function, items in replay.by_function(events).items():
        group = Group(function, items, subjects.function(function, items[0].handler, env))
        if baselines and any(subjects.serves_baseline(item) for item in items):
            group.baselines = subjects.baselines(env)
        groups.append(group)
    return groups


def prepare(
    groups: list[Group], files: dict[str, Path], env: dict[str, str], interpreter, deployed: list[ProductionGroup]
) -> None:
    """One untimed cold start of every subject: fills the bytecode cache, finds each function's drivers."""
    PYCACHE.mkdir(parents=True, exist_ok=True)
    cold.sample(interpreter, None, PYCACHE, write_bytecode=True)
    for group in groups:
        event_file = files[group.cold_event.name]
        first = cold.sample(group.subject, event_file, PYCACHE, write_bytecode=True)
        group.floor = subjects.floor(list(first.drivers), env)
        for subject in [group.floor, *group.baselines]:
            cold.sample(subject, event_file, PYCACHE, write_bytecode=True)
    for group in deployed:
        for subject in group.subjects:
            cold.sample(subject, group.event_file, PYCACHE, write_bytecode=True)


def cold_cases(
    groups: list[Group], files: dict[str, Path], interpreter, deployed: list[ProductionGroup]
) -> list[tuple[str, cold.ColdCase]]:
    """(function, case) pairs: the interpreter, the production subjects, then per function itself, floor, baselines."""
    cases = [("", cold.ColdCase(interpreter))]
    for group in deployed:
        cases += [
            (group.function, cold.ColdCase(subject, group.event.name, group.event_file)) for subject in group.subjects
        ]
    for group in groups:
        item = group.cold_event
        cases.append((group.function, cold.ColdCase(group.subject, item.name, files[item.name])))
        cases.append((group.function, cold.ColdCase(group.floor, item.name, files[item.name])))
        if subjects.serves_baseline(item):
            cases += [
                (group.function, cold.ColdCase(subject, item.name, files[item.name])) for subject in group.baselines
            ]
    return cases


def warm_cases(groups: list[Group]) -> list[tuple[str, warm.WarmCase]]:
    """(function, case) pairs: every event of the function, its floor once, the baselines on their events."""
    cases = []
    for group in groups:
        cases += [(group.function, warm.WarmCase(group.subject, item)) for item in group.events]
        cases.append((group.function, warm.WarmCase(group.floor, group.cold_event)))
        cases += [
            (group.function, warm.WarmCase(subject, item))
            for item in group.events
            if subjects.serves_baseline(item)
            for subject in group.baselines
        ]
    return cases


def cold_entry(function: str, route: str, case: cold.ColdCase, samples: list[cold.ColdSample]) -> dict:
    columns = {
        "total_ms": [s.total_ms for s in samples],
        "cpu_ms": [s.cpu_ms for s in samples],
        "interpreter_ms": [s.interpreter_ms for s in samples],
        "import_ms": [s.import_ms for s in samples],
        "invoke_ms": [s.invoke_ms for s in samples],
        "max_rss_kb": [s.max_rss_kb for s in samples],
    }
    phases = {
        name: [s.phases[name] for s in samples if name in s.phases]
        for name in dict.fromkeys(name for s in samples for name in s.phases)
    }
    plain = case.subject.config == subjects.PLAIN
    return {
        "function": function,
        "route": route,
        "config": case.subject.config,
        "system": case.subject.system,
        "subject": case.subject.name,
        "event": case.event_name,
        "drivers": list(samples[0].drivers),
        "aws_sdk": sorted({name for s in samples for name in s.aws_sdk}),
        "samples": columns,
        "summary": {name: summary(values) for name, values in columns.items()},
        "phases": {name: summary(values) for name, values in phases.items() if values},
        "artifact_bytes": artifact_bytes(function) if case.subject.system == subjects.BARE_API and plain else None,
    }


def warm_entry(function: str, case: warm.WarmCase, durations_ns: list[int]) -> dict:
    micros = [ns / 1000 for ns in durations_ns]
    return {
        "function": function,
        "route": case.event.route,
        "system": case.subject.system,
        "subject": case.subject.name,
        "event": case.event.name,
        "samples_us": micros,
        "summary_us": summary(micros),
    }


def measure(
    args: argparse.Namespace, events: list[replay.ReplayEvent], uri: str, database, world: production.World | None
) -> dict:
    """Seed ``database``, then every cold start and warm invocation; the samples as the results' entries."""
    replay.seed(database)
    env = function_environment(uri, database.name)
    with tempfile.TemporaryDirectory(prefix="bench-events-") as folder:
        files = write_events(events, Path(folder))
        groups = build_groups(events, env, baselines=not args.no_baselines)
        deployed = production_groups(groups, world, env, Path(folder)) if world else []
        interpreter = subjects.interpreter()
        print(f"bench: {len(events)} events, {len(groups)} functions; filling the bytecode cache", file=sys.stderr)
        prepare(groups, files, env, interpreter, deployed)
        cold_plan = cold_cases(groups, files, interpreter, deployed)

        def before_each(case: cold.ColdCase) -> None:
            replay.restore_profile(database)
            if world is not None:
                world.reset_proxies()

        def after_each(case: cold.ColdCase, sample: cold.ColdSample) -> dict:
            deployed_case = world is not None and case.subject.config == subjects.PRODUCTION
            return world.phases(sample.spawned_ns) if deployed_case else {}

        cold_samples = cold.alternate(
            [case for _, case in cold_plan],
            args.cold_samples,
            PYCACHE,
            before_each,
            progress("cold starts"),
            after_each,
        )
    print("bench: set-up costs", file=sys.stderr)
    measured_costs = costs.measure(args.cold_samples, world.ca_file if world else None)
    warm_plan = warm_cases(groups)
    durations = warm.alternate(
        [case for _, case in warm_plan], args.warm_count, args.warmup, args.chunk, progress("warm invocations")
    )
    routes = {group.function: group.route for group in groups}
    return {
        "cold": [
            cold_entry(function, routes.get(function, ""), case, cold_samples[case.key]) for function, case in cold_plan
        ],
        "warm": [warm_entry(function, case, durations[case.key]) for function, case in warm_plan],
        "costs": measured_costs,
        "production": {"delay_ms": world.delay_ms} if world else None,
    }


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("STAGE", "local")  # the events' tokens are minted with the local development secret
    args = parse_args(argv)
    started = time.monotonic()
    placed = cpus.pin_harness()  # before any server starts: they inherit it
    try:
        events = replay.load(replay.select(args.events))
    except (ValueError, LookupError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    results = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**machine(), "cpus": placed},
        "settings": {
            "events": [item.name for item in events],
            "cold_samples": args.cold_samples,
            "warm_count": args.warm_count,
            "warmup": args.warmup,
            "chunk": args.chunk,
            "bytecode": "compiled (.pyc present for every subject, as in a built Lambda artifact)",
        },
    }
    from pymongo import MongoClient

    database_name = os.environ.get("BENCH_DATABASE", "bare_api_bench")
    with databases(args) as (uri, results["database"], world):
        client = MongoClient(uri, tz_aware=True)
        try:
            results.update(measure(args, events, uri, client[database_name], world))
        except (cold.ColdStartError, warm.WorkerError) as exc:
            print(f"\nbench: {exc}", file=sys.stderr)
            return 1
        finally:
            client.drop_database(database_name)
        try:
            print("bench: first requests through the local gateway, per API flavour", file=sys.stderr)
            results["first_request"] = first_request.measure(
                min(args.cold_samples, FIRST_REQUEST_SAMPLES),
                FIRST_REQUEST_WARM,
                {**function_environment(uri, database_name), "STAGE": "local"},
            )
        except (RuntimeError, OSError) as exc:
            print(f"\nbench: first requests: {exc}", file=sys.stderr)
            return 1
        finally:
            client.drop_database(database_name)
            client.close()
    results["targets"] = [target.as_dict() for target in report.check_targets(results)]
    results["duration_s"] = round(time.monotonic() - started, 1)
    print(report.render(results))
    paths = report.save(results, args.results, chart=not args.no_chart)
    if not args.no_docs:
        chart = None if args.no_chart else paths[-1]
        paths += report.publish(results, args.docs, chart, CHART_COPY)
    shown = [path.relative_to(ROOT) if path.is_relative_to(ROOT) else path for path in paths]
    print("\nresults: " + ", ".join(map(str, shown)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
