"""A fleet of function containers on one machine, and the database connections it holds, read from the kernel.

``python -m tests.fleetkit --containers N --log FILE`` loads the driver once,
then forks N processes: each is one container, which starts early and imports
a database function (the fixture resource, parcels) and so makes its own
MongoClient, as on Lambda. It reads commands from stdin, one JSON
line each, gives them to every container and answers on stdout with one JSON
line: the statuses the containers' requests got. The containers' own request
lines (EMF) go to FILE.

- ``{"load": {"requests": R, "threads": T}}``: each container answers R
  ``GET /parcels`` events, T at a time (T above the pool size fills the pool);
- ``{"quit": true}``: the containers close their clients and exit.

:func:`connections` counts the TCP connections to a port, on the server's side
(sockets whose local port it is) and on the clients' side (sockets whose peer
port it is, ESTABLISHED or CLOSE_WAIT: a client that never closes a socket the
server dropped leaks it in CLOSE_WAIT).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import threading
from collections import Counter
from pathlib import Path

ESTABLISHED, CLOSE_WAIT = "01", "08"


def connections(port: int) -> dict[str, int]:
    """``{"server": n, "clients": n}``: open TCP connections to ``port`` on this machine, from /proc/net/tcp*."""
    counts = {"server": 0, "clients": 0}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for row in path.read_text().splitlines()[1:]:
            fields = row.split()
            local_port, remote_port, state = (
                int(fields[1].rsplit(":", 1)[1], 16),
                int(fields[2].rsplit(":", 1)[1], 16),
                fields[3],
            )
            if local_port == port and state == ESTABLISHED:
                counts["server"] += 1
            elif remote_port == port and state in (ESTABLISHED, CLOSE_WAIT):
                counts["clients"] += 1
    return counts


def _load(index: int, requests: int, threads: int) -> Counter:
    from tests.apigw import ALICE, rest_authorizer, rest_event
    from tests.fixtures.resources import parcels

    event = rest_event("GET", "/parcels", authorizer=rest_authorizer({**ALICE, "sub": f"fleet-{index}"}))
    statuses: Counter = Counter()
    share = [requests // threads + (1 if worker < requests % threads else 0) for worker in range(threads)]

    def run(count: int) -> None:
        for _ in range(count):
            statuses[str(parcels.lambda_handler(event, None)["statusCode"])] += 1

    workers = [threading.Thread(target=run, args=(count,)) for count in share]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return statuses


def _container(index: int, commands, log_path: str) -> None:
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, 1)
    from shared import db, early_db

    early_db.start()  # the container's cold start, as a database function's first lines: its client is made now
    from tests.fixtures.resources import parcels  # noqa: F401

    while True:
        command = commands.recv()
        if "quit" in command:
            db.close()
            sys.stdout.flush()
            commands.send({})
            return
        statuses = _load(index, command["load"]["requests"], command["load"]["threads"])
        sys.stdout.flush()
        commands.send(dict(statuses))


def serve(containers: int, log_path: str) -> None:
    """Start the containers, then relay stdin's commands to them until ``quit``."""
    # The driver is loaded once, before the fork; each container starts early (shared.early_db) and imports the
    # function itself, which creates its client, as a Lambda container's import does.
    from shared import db  # noqa: F401

    fork = multiprocessing.get_context("fork")
    pipes = []
    for index in range(containers):
        ours, theirs = fork.Pipe()
        fork.Process(target=_container, args=(index, theirs, log_path), daemon=True).start()
        pipes.append(ours)
    print(json.dumps({"containers": containers, "pid": os.getpid()}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        for pipe in pipes:
            pipe.send(command)
        total: Counter = Counter()
        for pipe in pipes:
            total.update(pipe.recv())
        print(json.dumps({"statuses": dict(total)}), flush=True)
        if "quit" in command:
            return


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fleetkit")
    parser.add_argument("--containers", type=int, required=True)
    parser.add_argument("--log", required=True, help="where the containers' request lines go")
    args = parser.parse_args()
    serve(args.containers, args.log)


if __name__ == "__main__":
    main()
