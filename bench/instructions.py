"""``make bench-instructions``: cold starts counted in instructions, which a busy machine cannot blur.

    python -m bench.instructions [--events "events/me.json events/authorizer-http.json"] [--delay-ms 0]
                                 [--warm-count 200]

CPU time on a shared two-CPU machine moves by 10% and more from one run to the
next, enough to flip a 1.10x target either way. Valgrind's callgrind counts the
instructions a process executes (every thread's, run one at a time), the same
whatever else the machine is doing. Each subject of ``make bench``'s
production configuration and each plain-URI function, with its floor, cold
starts once under callgrind against the same servers, and the ratios of the
counts are the ratios of the work done. Instructions are not time: they do
not see cache misses, waits for the network or what a TLS handshake costs in
cycles, so this complements ``make bench`` and does not replace it.

Warm requests are counted the same way: each plain function and its floor
start once answering the event once, and once answering it ``1 + warm-count``
times; the difference of the two counts, divided by ``warm-count``, is what one
warm request costs, and the function's cost minus its floor's is the work a
request does beyond its query (or its token check).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import cold, production, replay, report, run, subjects
from tools import cli

DATABASE = "bare_api_bench_instructions"
DEFAULT_EVENTS = "events/me.json events/authorizer-http.json"
COLLECTED = re.compile(r"Collected : (\d+)")
TIMEOUT_SECONDS = 900
DEFAULT_WARM_COUNT = 200


class CountError(RuntimeError):
    """A counted cold start failed."""


def count(subject: subjects.Subject, event_file: Path, warm_repeat: int = 0) -> int:
    """The instructions one cold start of ``subject`` executes, answering the event in ``event_file`` once, then
    ``warm_repeat`` more times warm."""
    env = cold.child_environment(subject, run.PYCACHE, write_bytecode=False)
    # Under valgrind everything runs some 50 times slower: give the driver time, and fix the hash seed.
    env.update({"MONGODB_TIMEOUT_MS": "60000", "PYTHONHASHSEED": "0", "BENCH_WARM_REPEAT": str(warm_repeat)})
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        subject.interpreter,
        str(cold.COLDSTART),
        subject.handler,
        str(event_file),
    ]
    completed = subprocess.run(command, env=env, cwd=run.ROOT, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    answer = cold.parse_report(completed.stdout) or {}
    found = COLLECTED.findall(completed.stderr)
    if completed.returncode != 0 or not found or "error" in answer:
        raise CountError(f"{subject.key}: {answer.get('error') or completed.stderr[-1500:]}")
    return int(found[-1])


def per_warm_request(subject: subjects.Subject, event_file: Path, warm_count: int, cold_count: int) -> float:
    """The instructions one warm request of ``subject`` executes: (cold + ``warm_count`` warm) - cold, per request."""
    return (count(subject, event_file, warm_count) - cold_count) / warm_count


def counted_pairs(
    events: list[replay.ReplayEvent], world: production.World, uri: str, database, folder: Path
) -> list[tuple[str, subjects.Subject, subjects.Subject, Path]]:
    """(route, subject, its floor, event file) for every production subject and every plain function."""
    replay.seed(database)
    env = run.function_environment(uri, database.name)
    files = run.write_events(events, folder)
    groups = run.build_groups(events, env, baselines=False)
    deployed = run.production_groups(groups, world, env, folder)
    run.prepare(groups, files, env, subjects.interpreter(), deployed)  # bytecode, and each function's floor
    pairs = []
    for group in deployed:
        floors = [subject for subject in group.subjects if subject.system == subjects.FLOOR]
        for subject in group.subjects:
            if floors and subject.system != subjects.FLOOR:
                pairs.append((group.route, subject, floors[0], group.event_file))
    for group in groups:
        pairs.append((group.route, group.subject, group.floor, files[group.cold_event.name]))
    return pairs


def render(rows: list[tuple[str, str, int, int]]) -> str:
    lines = [
        "Cold start, millions of instructions (callgrind, one cold start each, all threads)",
        f"{'route':<12}{'subject':<44}{'subject':>10}{'floor':>10}  ratio",
    ]
    lines += [
        f"{route:<12}{label:<44}{mine / 1e6:>10.1f}{floor / 1e6:>10.1f}  {mine / floor:.3f}x"
        for route, label, mine, floor in rows
    ]
    return "\n".join(lines)


def render_warm(rows: list[tuple[str, str, float, float]], warm_count: int) -> str:
    lines = [
        f"Warm request, thousands of instructions per request (callgrind, {warm_count} warm requests each)",
        f"{'route':<12}{'subject':<44}{'subject':>10}{'floor':>10}{'above':>10}  ratio",
    ]
    lines += [
        f"{route:<12}{label:<44}{mine / 1e3:>10.1f}{floor / 1e3:>10.1f}{(mine - floor) / 1e3:>10.1f}"
        f"  {mine / floor:.3f}x"
        for route, label, mine, floor in rows
    ]
    return "\n".join(lines)


def warm_targets(rows: list[tuple[str, str, float, float]]) -> list[report.Target]:
    """A warm ``GET /me`` within WARM_ME_MAX_ABOVE_FLOOR_INSTRUCTIONS of its ``find_one``; a warm authorizer within
    WARM_AUTHORIZER_MAX_RATIO_INSTRUCTIONS of its ``jwt.decode``."""
    found = []
    for route, _label, mine, floor in rows:
        above = mine - floor
        if route == "GET /me":
            limit = report.WARM_ME_MAX_ABOVE_FLOOR_INSTRUCTIONS
            found.append(
                report.Target(
                    f"warm GET /me within {limit / 1e3:.0f} k instructions of its find_one, per request",
                    above <= limit,
                    f"{mine / 1e3:.1f} k vs floor {floor / 1e3:.1f} k (+{above / 1e3:.1f} k)",
                )
            )
        elif route == "authorizer":
            limit = report.WARM_AUTHORIZER_MAX_RATIO_INSTRUCTIONS
            found.append(
                report.Target(
                    f"warm authorizer within {limit}x of its jwt.decode, instructions per request",
                    mine / floor <= limit,
                    f"{mine / 1e3:.1f} k vs floor {floor / 1e3:.1f} k ({mine / floor:.3f}x)",
                )
            )
    return found


def targets(rows: list[tuple[str, str, int, int]]) -> list[report.Target]:
    """The cold-start targets in instructions: production (a secret reference) and plain-URI functions."""
    found = []
    for route, label, mine, floor in rows:
        production_row = label.endswith("(Secrets Manager)")
        plain_row = label.startswith(subjects.BARE_API) and "(" not in label
        limits = (
            report.PRODUCTION_INSTRUCTION_LIMITS
            if production_row
            else report.PLAIN_INSTRUCTION_LIMITS
            if plain_row
            else {}
        )
        if route in limits:
            ratio, which = mine / floor, "production" if production_row else "plain"
            found.append(
                report.Target(
                    f"{which} cold start of {route} within {limits[route]}x of its floor, instructions",
                    ratio <= limits[route],
                    f"{mine / 1e6:.1f} M vs floor {floor / 1e6:.1f} M instructions ({ratio:.3f}x)",
                )
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(
        prog="make bench-instructions", description="Cold starts in instructions (callgrind), against their floors."
    )
    parser.add_argument("--events", default=DEFAULT_EVENTS, help="event files or globs")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="modelled network delay per direction")
    parser.add_argument(
        "--warm-count",
        type=int,
        default=DEFAULT_WARM_COUNT,
        help="warm requests counted per function and floor (0: none)",
    )
    args = parser.parse_args(argv)
    if args.warm_count < 0:
        print("bench-instructions: --warm-count must be 0 or more", file=sys.stderr)
        return 2
    try:
        events = replay.load(replay.select(args.events))
    except (ValueError, LookupError) as exc:
        print(f"bench-instructions: {exc}", file=sys.stderr)
        return 2
    if shutil.which("valgrind") is None:
        print("bench-instructions: valgrind is needed (Debian/Ubuntu: apt-get install valgrind)", file=sys.stderr)
        return 2
    from pymongo import MongoClient

    rows, warm_rows = [], []
    with production.world(args.delay_ms) as (world, uri), tempfile.TemporaryDirectory() as folder:
        client = MongoClient(uri, tz_aware=True)
        try:
            for route, subject, floor, event_file in counted_pairs(events, world, uri, client[DATABASE], Path(folder)):
                print(f"counting {subject.key} and its floor", file=sys.stderr)
                label = f"{subject.system} {subject.name}"
                mine, under = count(subject, event_file), count(floor, event_file)
                rows.append((route, label, mine, under))
                if args.warm_count and subject.config == subjects.PLAIN:
                    print(f"counting {args.warm_count} warm requests of {subject.key} and its floor", file=sys.stderr)
                    warm_rows.append(
                        (
                            route,
                            label,
                            per_warm_request(subject, event_file, args.warm_count, mine),
                            per_warm_request(floor, event_file, args.warm_count, under),
                        )
                    )
        except (CountError, cold.ColdStartError) as exc:
            print(f"bench-instructions: {exc}", file=sys.stderr)
            return 1
        finally:
            client.drop_database(DATABASE)
            client.close()
    print(render(rows))
    if warm_rows:
        print()
        print(render_warm(warm_rows, args.warm_count))
    for target in [*targets(rows), *warm_targets(warm_rows)]:
        print(target.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
