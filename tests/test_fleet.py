"""The connection budget's per-container numbers, measured: a fleet of containers on a real server.

Each container (a process of tests/fleetkit.py, with its own client) holds one
monitor socket per member and at most MONGODB_MAX_POOL_SIZE pooled connections:
the numbers tools/checks/budget.py multiplies. The server's side of every
connection is read from the kernel; the server is a standalone node (one member).
``make fleet CONTAINERS=100`` runs the same tests with a larger fleet and more load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.fleetkit import connections
from tools import localdb, loopback
from tools.checks import budget

CONTAINERS = int(os.environ.get("FLEET_CONTAINERS", "50"))
REQUESTS = int(os.environ.get("FLEET_REQUESTS", "9"))  # per container and load, 3 at a time
POOL_SIZE = 2
IDLE_MS = 1000
MEMBERS = 1
# Generous: on a shared machine a fleet of processes may take seconds to reach (or leave) a steady count.
SETTLE_SECONDS = 30

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")


class Fleet:
    def __init__(self, port: int, log: Path) -> None:
        environment = {
            **os.environ,
            "STAGE": "local",
            "MONGODB_URI": f"mongodb://127.0.0.1:{port}/",
            "MONGODB_DATABASE": "fleet",
            "MONGODB_MAX_POOL_SIZE": str(POOL_SIZE),
            "MONGODB_MAX_IDLE_TIME_MS": str(IDLE_MS),
            "MONGODB_TIMEOUT_MS": "2000",
        }
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fleetkit", "--containers", str(CONTAINERS), "--log", str(log)],
            cwd=ROOT,
            env=environment,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert json.loads(self.process.stdout.readline())["containers"] == CONTAINERS

    def send(self, command: dict) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())["statuses"]

    def load(self, requests: int = REQUESTS) -> dict:
        return self.send({"load": {"requests": requests, "threads": 3}})

    def load_until_served(self, attempts: int = 10) -> None:
        """Load until every request of one round is answered 200 (the first after a restart may get 503)."""
        for _ in range(attempts):
            if set(self.load()) == {"200"}:
                return
        pytest.fail("the fleet's requests kept failing")

    def request_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if '"message":"request"' in line]

    def quit(self) -> None:
        self.send({"quit": True})
        self.process.wait(timeout=60)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of the fleet's own, which a test may kill and start again on the same port and data."""
    folder = tmp_path_factory.mktemp("fleet")
    port = loopback.free_port()
    state = {"process": localdb.start(port, folder / "data"), "port": port, "folder": folder}

    def restart() -> None:
        state["process"].kill()  # a crash: the clients get no goodbye
        state["process"].wait()
        state["process"] = localdb.start(port, folder / "data")

    state["restart"] = restart
    yield state
    state["process"].kill()
    state["process"].wait()


@pytest.fixture(scope="module")
def fleet(server):
    started = Fleet(server["port"], server["folder"] / "requests.log")
    yield started
    started.quit()


def per_container() -> int:
    """The budget's number for one container of this fleet, on its one-member server."""
    assert MEMBERS == 1
    return budget.per_container({"MONGODB_MAX_POOL_SIZE": str(POOL_SIZE)})


def settle(port: int, expected: int) -> dict[str, int]:
    """The connection counts once both sides reach ``expected`` (or the last seen, after a while).

    A socket the old server dropped is closed by the client when its pool next
    prunes itself (about once a second): a leak is one that never closes.
    """
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        counts = connections(port)
        if counts == {"server": expected, "clients": expected} or time.monotonic() > deadline:
            return counts
        time.sleep(0.2)


def loaded(fleet: Fleet, port: int) -> dict[str, int]:
    """Counts after loads that fill every container's pool; each load is checked never to exceed the formula."""
    for _ in range(3):
        fleet.load_until_served()
        counts = connections(port)
        assert counts["server"] <= CONTAINERS * per_container()
        if counts["server"] == CONTAINERS * per_container():
            return counts
    return counts


def test_under_load_each_container_holds_its_monitor_and_a_full_pool(fleet, server):
    counts = loaded(fleet, server["port"])
    assert counts == {"server": CONTAINERS * per_container(), "clients": CONTAINERS * per_container()}


def test_the_request_lines_count_every_connection_the_server_accepted(fleet, server):
    loaded(fleet, server["port"])
    lines = fleet.request_lines()
    assert sum(line["PoolConnectionsCreated"] for line in lines) >= CONTAINERS * POOL_SIZE
    assert max(line["PoolConnections"] for line in lines) == POOL_SIZE


def test_after_a_database_restart_the_fleet_holds_the_same_count_and_leaks_nothing(fleet, server):
    loaded(fleet, server["port"])
    server["restart"]()
    assert loaded(fleet, server["port"])["server"] == CONTAINERS * per_container()
    # Every client socket has a live server side: none is left half-closed by the old server's end.
    expected = CONTAINERS * per_container()
    assert settle(server["port"], expected) == {"server": expected, "clients": expected}
    assert any(line["PoolCleared"] for line in fleet.request_lines())


def test_an_idle_fleet_gives_back_its_pooled_connections_and_keeps_its_monitors(fleet, server):
    loaded(fleet, server["port"])
    monitors = CONTAINERS * MEMBERS * budget.MONITOR_SOCKETS_PER_MEMBER
    assert settle(server["port"], monitors) == {"server": monitors, "clients": monitors}
