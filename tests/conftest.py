"""Shared fixtures: a real MongoDB-protocol server, a clean database per test.

The server is ``TEST_MONGODB_URI`` when set (a real mongod, for example the
CI service container); otherwise a local FerretDB started on a free port with
a temporary data folder, stopped at the end of the session.
"""

from __future__ import annotations

import functools
import os
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared import config, db  # noqa: E402
from tests.awskit import aws, aws_server, aws_tls_server  # noqa: E402, F401 -- fixtures: the local AWS endpoint
from tools import localdb, loopback  # noqa: E402

os.environ.setdefault("STAGE", "local")
SERVER_LOGS: list[Path] = []  # the session's local server logs, for its slow requests in the summary


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory) -> str:
    if os.environ.get("TEST_MONGODB_URI"):
        yield os.environ["TEST_MONGODB_URI"]
        return
    port = loopback.free_port()
    data_dir = tmp_path_factory.mktemp("localdb")
    SERVER_LOGS.append(data_dir / "server.log")
    with open(data_dir / "server.log", "wb") as log:
        process = localdb.start(port, data_dir / "data", log_file=log)
        yield f"mongodb://127.0.0.1:{port}/"
        localdb.stop(process)


@pytest.fixture(scope="session")
def mongo_port(mongo_uri) -> int:
    """The port of the session's server on loopback: what a TCP proxy in front of it forwards to."""
    return urlsplit(mongo_uri).port


@pytest.fixture
def environment(monkeypatch):
    """Set environment variables for one test; settings and the client are rebuilt."""

    def apply(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        config.settings.cache_clear()
        db.close()

    yield apply
    config.settings.cache_clear()
    db.close()


@pytest.fixture(scope="session")
def test_client(mongo_uri):
    """The tests' own client, to seed and inspect data apart from the functions' client."""
    client = MongoClient(mongo_uri, tz_aware=True)
    yield client
    client.close()


@pytest.fixture
def configure(monkeypatch):
    """``configure(**env)``: the token verifier's variables for one test, from a clean slate (see tests/tokenkit.py)."""
    from tests import tokenkit

    yield functools.partial(tokenkit.configure, monkeypatch)
    tokenkit.forget()


@pytest.fixture
def database(test_client, mongo_uri, environment):
    """A fresh, empty database for one test, configured as the functions' database."""
    from handlers import users

    name = f"test_{uuid.uuid4().hex[:12]}"
    environment(MONGODB_URI=mongo_uri, MONGODB_DATABASE=name)
    users.public_profiles.entries.clear()
    yield test_client[name]
    test_client.drop_database(name)


def pytest_terminal_summary(terminalreporter) -> None:
    """Show the requests the local server logged as slow (1 s or more at its write gate), with where the time went."""
    slow = [line for path in SERVER_LOGS if path.exists()
            for line in path.read_text(errors="replace").splitlines() if 'msg="slow request"' in line]
    if slow:
        terminalreporter.section("local database: slow requests")
        for line in slow:
            terminalreporter.write_line(line)
