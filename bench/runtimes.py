"""``make bench-runtimes``: the Python versions Lambda offers, side by side, to choose ``Runtime`` by measurement.

    python -m bench.runtimes [--versions "3.12 3.13"] [--events "events/me.json events/authorizer-http.json"]
                             [--cold-samples 5] [--warm-count 1000] [--instructions-warm-count 200]

For every version, its interpreter (found as ``make build`` finds one: ``LAMBDA_PYTHON`` when it is that
version, ``python3.X`` on ``PATH``, pyenv's newest) runs each plain-URI function of the events and its floor
with the deployed dependencies (``requirements.txt``) installed for it once under ``.local/bench/runtimes``,
as a Lambda code folder holds them. Against one local database, in one run:

- cold start CPU time, the median of ``cold-samples`` rounds in which every version's subjects alternate;
- warm latency p50 of ``warm-count`` invocations, the versions' workers alternating chunk by chunk;
- instructions (callgrind) of one cold start, and of one warm request (see :mod:`bench.instructions`).

What it cannot measure is Lambda's own part: the runtime's start before the handler's module is imported,
which differs per runtime version and image (see docs/performance.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import cold, instructions, replay, run, stats, subjects, warm
from tools import build, cli

DATABASE = "bare_api_bench_runtimes"
DEFAULT_VERSIONS = "3.12 3.13"
DEFAULT_EVENTS = "events/me.json events/authorizer-http.json"
SITES = run.ROOT / ".local" / "bench" / "runtimes"
REQUIREMENTS = run.ROOT / "requirements.txt"
WARM_CHUNK = 250


def site(version: str, python: str) -> Path:
    """A folder holding ``requirements.txt`` installed for ``python`` (version ``version``), made once."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    folder = SITES / version / digest
    if (folder / ".complete").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    print(f"bench-runtimes: installing requirements.txt for Python {version}", file=sys.stderr)
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(folder),
            "-r",
            str(REQUIREMENTS),
        ],
        check=True,
    )
    (folder / ".complete").touch()
    return folder


def on_version(subject: subjects.Subject, version: str, python: str, folder: Path) -> subjects.Subject:
    """``subject`` run by ``python`` with the dependencies in ``folder``, named for ``version``."""
    return dataclasses.replace(subject, name=f"{subject.name} on {version}", python=python, path=str(folder))


def pairs_for(version: str, python: str, folder: Path, events, env, files) -> list[tuple]:
    """(route, function, its floor, event, event file) for each function of ``events``, on ``version``."""
    pairs = []
    for group in run.build_groups(events, env, baselines=False):
        item = group.cold_event
        event_file = files[item.name]
        subject = on_version(group.subject, version, python, folder)
        first = cold.sample(subject, event_file, run.PYCACHE, write_bytecode=True)
        floor = on_version(subjects.floor(list(first.drivers), env), version, python, folder)
        cold.sample(floor, event_file, run.PYCACHE, write_bytecode=True)
        pairs.append((group.route, subject, floor, item, event_file))
    return pairs


def measure(pairs_by_version: dict, args) -> list[dict]:
    """One row per version and function: cold CPU, warm p50, cold and warm instructions, each with its floor's."""
    everything = [pair for pairs in pairs_by_version.values() for pair in pairs]
    cases = [
        cold.ColdCase(subject, item.name, event_file)
        for _, function, floor, item, event_file in everything
        for subject in (function, floor)
    ]
    cold_samples = cold.alternate(cases, args.cold_samples, run.PYCACHE)
    warm_cases = [
        warm.WarmCase(subject, item) for _, function, floor, item, _ in everything for subject in (function, floor)
    ]
    warm_ns = warm.alternate(warm_cases, args.warm_count, warmup=100, chunk=WARM_CHUNK)
    rows = []
    for version, pairs in pairs_by_version.items():
        for route, function, floor, item, event_file in pairs:
            row = {"version": version, "route": route}
            for role, subject in (("ours", function), ("floor", floor)):
                key = f"{subject.key}@{item.name}"
                row[f"{role}_cold_cpu_ms"] = stats.percentile([sample.cpu_ms for sample in cold_samples[key]], 50)
                row[f"{role}_warm_p50_us"] = stats.percentile(warm_ns[key], 50) / 1000
                if args.instructions_warm_count:
                    print(f"counting {subject.key}", file=sys.stderr)
                    once = instructions.count(subject, event_file)
                    row[f"{role}_cold_instructions"] = once
                    row[f"{role}_warm_instructions"] = instructions.per_warm_request(
                        subject, event_file, args.instructions_warm_count, once
                    )
            rows.append(row)
    return rows


def render(rows: list[dict]) -> str:
    """One line per version and function: each figure, its floor's, and their ratio or difference."""
    lines = [
        f"{'route':<12}{'python':<8}{'cold CPU ms':>22}{'cold M instr.':>22}{'warm p50 us':>24}{'warm k instr.':>24}",
        f"{'':<20}{'ours / floor':>22}{'ours / floor':>22}{'ours / floor (+)':>24}{'ours / floor (+)':>24}",
    ]
    for row in rows:
        cold_cpu = f"{row['ours_cold_cpu_ms']:.1f} / {row['floor_cold_cpu_ms']:.1f}"
        warm_us = (
            f"{row['ours_warm_p50_us']:.1f} / {row['floor_warm_p50_us']:.1f} "
            f"({row['ours_warm_p50_us'] - row['floor_warm_p50_us']:+.1f})"
        )
        cold_instr = warm_instr = "-"
        if "ours_cold_instructions" in row:
            cold_instr = f"{row['ours_cold_instructions'] / 1e6:.1f} / {row['floor_cold_instructions'] / 1e6:.1f}"
            ours, floor = row["ours_warm_instructions"] / 1e3, row["floor_warm_instructions"] / 1e3
            warm_instr = f"{ours:.1f} / {floor:.1f} ({ours - floor:+.1f})"
        lines.append(
            f"{row['route']:<12}{row['version']:<8}{cold_cpu:>22}{cold_instr:>22}{warm_us:>24}{warm_instr:>24}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(
        prog="make bench-runtimes", description="Python versions side by side: cold and warm, time and instructions."
    )
    parser.add_argument("--versions", default=DEFAULT_VERSIONS, help="Python versions, as 3.12")
    parser.add_argument("--events", default=DEFAULT_EVENTS, help="event files or globs")
    parser.add_argument("--cold-samples", type=int, default=5, help="cold starts per subject and version")
    parser.add_argument("--warm-count", type=int, default=1000, help="warm invocations per subject and version")
    parser.add_argument(
        "--instructions-warm-count",
        type=int,
        default=200,
        help="warm requests counted under callgrind (0: no instruction counts)",
    )
    args = parser.parse_args(argv)
    versions = args.versions.split()
    if not versions or args.cold_samples < 1 or args.warm_count < 1 or args.instructions_warm_count < 0:
        print("bench-runtimes: give at least one version, one cold sample and one warm invocation", file=sys.stderr)
        return 2
    if args.instructions_warm_count and shutil.which("valgrind") is None:
        print(
            "bench-runtimes: valgrind is needed for the instruction counts (or --instructions-warm-count 0)",
            file=sys.stderr,
        )
        return 2
    try:
        events = replay.load(replay.select(args.events))
        pythons = {version: build.find_interpreter(version) for version in versions}
    except (ValueError, LookupError, build.BuildError) as exc:
        print(f"bench-runtimes: {exc}", file=sys.stderr)
        return 2
    from pymongo import MongoClient

    with run.database_uri() as (uri, _), tempfile.TemporaryDirectory() as folder:
        client = MongoClient(uri, tz_aware=True)
        try:
            replay.seed(client[DATABASE])
            env = run.function_environment(uri, DATABASE)
            files = run.write_events(events, Path(folder))
            pairs_by_version = {
                version: pairs_for(version, python, site(version, python), events, env, files)
                for version, python in pythons.items()
            }
            rows = measure(pairs_by_version, args)
        except (cold.ColdStartError, warm.WorkerError, instructions.CountError, subprocess.CalledProcessError) as exc:
            print(f"bench-runtimes: {exc}", file=sys.stderr)
            return 1
        finally:
            client.drop_database(DATABASE)
            client.close()
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
