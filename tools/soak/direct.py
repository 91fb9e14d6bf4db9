"""Compare-and-swap races and warm read latency, straight to a database with pymongo.

    python -m tools.soak.direct [--threads 6] [--attempts 300] [--uri mongodb://...]

Without ``--uri`` it starts its own local server with both its gated listener
and FerretDB's own, ungated one, and measures each side by side: the races
(stored increments against acknowledged ones) and the warm ``find_one``
latency, alternating between the two listeners in the same run.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from collections import namedtuple
from pathlib import Path

from pymongo import MongoClient

from tools import cli, localdb, loopback

Race = namedtuple("Race", "method acknowledged stored attempts")
DATABASE = "soak_direct"


def _increment_find_one_and_update(items, seen: dict) -> bool:
    change = {"$set": {"n": seen["n"] + 1, "revision": os.urandom(6).hex()}}
    return items.find_one_and_update({"_id": seen["_id"], "revision": {"$in": [seen["revision"]]}}, change) is not None


def _increment_update_one(items, seen: dict) -> bool:
    change = {"$set": {"n": seen["n"] + 1, "revision": os.urandom(6).hex()}}
    return items.update_one({"_id": seen["_id"], "revision": {"$in": [seen["revision"]]}}, change).modified_count == 1


INCREMENTS = {"find_one_and_update": _increment_find_one_and_update, "update_one": _increment_update_one}


def cas_race(client: MongoClient, method: str, threads: int, attempts: int) -> Race:
    """``threads`` threads each try ``attempts`` read-then-compare-and-swap increments of one document."""
    items = client[DATABASE]["items"]
    items.replace_one({"_id": method}, {"n": 0, "revision": "start"}, upsert=True)
    increment = INCREMENTS[method]
    acknowledged = [0] * threads

    def run(index: int) -> None:
        for _ in range(attempts):
            if increment(items, items.find_one({"_id": method})):
                acknowledged[index] += 1

    workers = [threading.Thread(target=run, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return Race(method, sum(acknowledged), items.find_one({"_id": method})["n"], threads * attempts)


def read_latency(clients: dict[str, MongoClient], rounds: int, calls: int) -> dict[str, float]:
    """Median microseconds of a warm ``find_one`` by ``_id`` per client, alternating clients round by round."""
    for client in clients.values():
        client[DATABASE]["reads"].replace_one({"_id": 1}, {"n": 1}, upsert=True)
    samples = {name: [] for name in clients}
    for _ in range(rounds):
        for name, client in clients.items():
            reads = client[DATABASE]["reads"]
            reads.find_one({"_id": 1})
            for _ in range(calls):
                started = time.perf_counter()
                reads.find_one({"_id": 1})
                samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1e6 for name, values in samples.items()}


def print_races(label: str, uri: str, threads: int, attempts: int) -> None:
    with MongoClient(uri, maxPoolSize=threads + 2) as client:
        for method in INCREMENTS:
            race = cas_race(client, method, threads, attempts)
            lost = race.acknowledged - race.stored
            print(
                f"{label:<8} {method:<20} {threads} threads x {attempts}: "
                f"{race.acknowledged} acknowledged, {race.stored} stored, {lost} lost"
            )


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="python -m tools.soak.direct", description=__doc__.splitlines()[0])
    parser.add_argument("--uri", help="measure this server only (default: a local server, gated and ungated)")
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--attempts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args(argv)
    if args.uri:
        print_races("server", args.uri, args.threads, args.attempts)
        return 0
    port, ungated_port = loopback.free_port(), loopback.free_port()
    with tempfile.TemporaryDirectory(prefix="soak-direct-") as data_dir:
        process = localdb.start(port, Path(data_dir), ungated_port=ungated_port)
        try:
            uris = {"gated": f"mongodb://127.0.0.1:{port}/", "ungated": f"mongodb://127.0.0.1:{ungated_port}/"}
            for label, uri in uris.items():
                print_races(label, uri, args.threads, args.attempts)
            clients = {label: MongoClient(uri) for label, uri in uris.items()}
            medians = read_latency(clients, args.rounds, args.calls)
            for client in clients.values():
                client.close()
        finally:
            localdb.stop(process)
    change = medians["gated"] / medians["ungated"] - 1
    print(
        f"warm find_one, median of {args.rounds} x {args.calls} alternating: gated {medians['gated']:.0f} us, "
        f"ungated {medians['ungated']:.0f} us ({change:+.1%})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
