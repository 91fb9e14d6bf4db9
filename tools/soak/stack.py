"""The stack under soak: a local database that can be killed and restarted, and the local gateway in front."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tools import localdb, loopback
from tools.soak.ledger import Outage

ROOT = Path(__file__).resolve().parent.parent.parent
GATEWAY_START_SECONDS = 60


class Database:
    """A local server on its own port and data folder, killed (SIGKILL, as in a crash) and restarted on both.

    ``ungated``: clients use FerretDB's own listener, without the write gate.
    """

    def __init__(self, folder: Path, ungated: bool = False) -> None:
        self.port = loopback.free_port()
        self.ungated_port = loopback.free_port() if ungated else None
        self.data_dir = folder / "data"
        self.log = open(folder / "database.log", "ab")  # noqa: SIM115 - closed in stop()
        self.restart()

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.ungated_port or self.port}/"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def restart(self) -> None:
        self.process = localdb.start(self.port, self.data_dir, log_file=self.log, ungated_port=self.ungated_port)

    def stop(self) -> None:
        localdb.stop(self.process)
        self.log.close()


class Gateway:
    """``python -m tools.gateway --logs json`` on a free port against the database, its output in a log file.

    The log holds the functions' own lines (their EMF metrics) and the gateway's request lines: the soak's
    dashboard picture is drawn from them (tools/soak/picture.py).
    """

    def __init__(
        self, folder: Path, database_uri: str, workers: int, environment: dict[str, str], api: str = "rest"
    ) -> None:
        self.port = loopback.free_port()
        self.log_path = folder / "gateway.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, **environment, "MONGODB_URI": database_uri}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tools.gateway",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--api",
                api,
                "--logs",
                "json",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            loopback.wait_until_listening(self.port, self.process, GATEWAY_START_SECONDS)
        except loopback.NotListening:
            self.stop()
            raise

    def stop(self) -> None:
        loopback.stop(self.process)
        self.log.close()

    def tail(self, lines: int = 30, width: int = 300) -> str:
        return "\n".join(line[:width] for line in self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Killer(threading.Thread):
    """Kills the database at the given times (seconds after ``started``), each time for ``outage`` seconds."""

    def __init__(self, database: Database, started: float, at: list[float], outage: float) -> None:
        super().__init__(name="killer", daemon=True)
        self.database, self.started, self.at, self.outage = database, started, at, outage
        self.outages: list[Outage] = []
        self.failure: str | None = None

    def clock(self) -> float:
        return time.monotonic() - self.started

    def run(self) -> None:
        try:
            for when in self.at:
                time.sleep(max(0.0, when - self.clock()))
                outage = Outage(killed_at=self.clock())
                self.outages.append(outage)
                self.database.kill()
                time.sleep(self.outage)
                self.database.restart()
                outage.up_at = self.clock()
        except localdb.LocalDBError as exc:
            self.failure = f"the database did not restart: {exc}"
