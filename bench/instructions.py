"""``make bench-instructions``: cold starts counted in instructions, which a busy machine cannot blur.

    python -m bench.instructions [--events "events/me.json events/authorizer-http.json"] [--delay-ms 0]

CPU time on a shared two-CPU machine moves by 10% and more from one run to the
next, enough to flip a 1.10x target either way. Valgrind's callgrind counts the
instructions a process executes (every thread's, run one at a time), the same
whatever else the machine is doing. Each subject of ``make bench``'s
production configuration and each plain-URI function, with its floor, cold
starts once under callgrind against the same servers, and the ratios of the
counts are the ratios of the work done. Instructions are not time: they do
not see cache misses, waits for the network or what a TLS handshake costs in
cycles, so this complements ``make bench`` and does not replace it.
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


class CountError(RuntimeError):
    """A counted cold start failed."""


def count(subject: subjects.Subject, event_file: Path) -> int:
    """The instructions one cold start of ``subject`` executes, answering the event in ``event_file``."""
    env = cold.child_environment(subject, run.PYCACHE, write_bytecode=False)
    # Under valgrind everything runs some 50 times slower: give the driver time, and fix the hash seed.
    env.update({"MONGODB_TIMEOUT_MS": "60000", "PYTHONHASHSEED": "0"})
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               str(cold.COLDSTART), subject.handler, str(event_file)]
    completed = subprocess.run(command, env=env, cwd=run.ROOT, capture_output=True, text=True,
                               timeout=TIMEOUT_SECONDS)
    answer = cold.parse_report(completed.stdout) or {}
    found = COLLECTED.findall(completed.stderr)
    if completed.returncode != 0 or not found or "error" in answer:
        raise CountError(f"{subject.key}: {answer.get('error') or completed.stderr[-1500:]}")
    return int(found[-1])


def counted_pairs(events: list[replay.ReplayEvent], world: production.World, uri: str, database,
                  folder: Path) -> list[tuple[str, subjects.Subject, subjects.Subject, Path]]:
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
    lines = ["Cold start, millions of instructions (callgrind, one cold start each, all threads)",
             f"{'route':<12}{'subject':<44}{'subject':>10}{'floor':>10}  ratio"]
    lines += [f"{route:<12}{label:<44}{mine / 1e6:>10.1f}{floor / 1e6:>10.1f}  {mine / floor:.3f}x"
              for route, label, mine, floor in rows]
    return "\n".join(lines)


def targets(rows: list[tuple[str, str, int, int]]) -> list[report.Target]:
    """The production cold-start targets of ``make bench``, in instructions instead of CPU time."""
    found = []
    for route, limit in report.PRODUCTION_CPU_LIMITS.items():
        for row_route, label, mine, floor in rows:
            if row_route == route and label.endswith("(Secrets Manager)"):
                ratio = mine / floor
                found.append(report.Target(
                    f"production cold start of {route} within {limit}x of its floor, instructions",
                    ratio <= limit, f"{mine / 1e6:.1f} M vs floor {floor / 1e6:.1f} M instructions ({ratio:.3f}x)"))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="make bench-instructions",
                        description="Cold starts in instructions (callgrind), against their floors.")
    parser.add_argument("--events", default=DEFAULT_EVENTS, help="event files or globs")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="modelled network delay per direction")
    args = parser.parse_args(argv)
    try:
        events = replay.load(replay.select(args.events))
    except (ValueError, LookupError) as exc:
        print(f"bench-instructions: {exc}", file=sys.stderr)
        return 2
    if shutil.which("valgrind") is None:
        print("bench-instructions: valgrind is needed (Debian/Ubuntu: apt-get install valgrind)", file=sys.stderr)
        return 2
    from pymongo import MongoClient

    rows = []
    with production.world(args.delay_ms) as (world, uri), tempfile.TemporaryDirectory() as folder:
        client = MongoClient(uri, tz_aware=True)
        try:
            for route, subject, floor, event_file in counted_pairs(events, world, uri, client[DATABASE], Path(folder)):
                print(f"counting {subject.key} and its floor", file=sys.stderr)
                label = f"{subject.system} {subject.name}"
                rows.append((route, label, count(subject, event_file), count(floor, event_file)))
        except (CountError, cold.ColdStartError) as exc:
            print(f"bench-instructions: {exc}", file=sys.stderr)
            return 1
        finally:
            client.drop_database(DATABASE)
            client.close()
    print(render(rows))
    for target in targets(rows):
        print(target.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
