"""Shared fixtures: a real MongoDB-protocol server, a clean database per test; the two tiers.

The server is ``TEST_MONGODB_URI`` when set (a real mongod, for example the
CI service container); otherwise a local FerretDB started on a free port with
a temporary data folder, stopped at the end of the session.

Tiers: ``make test`` runs everything; ``make test-fast`` (``pytest --fast``)
runs only the tests that need no subprocess, server or build. A test is sorted
by what it needs, never by its name: by the fixtures it uses (``NEEDS``: the
database server, the local AWS endpoint), by a marker (``db``, ``server``,
``subprocess``, ``build``, ``slow``), and, for whatever is left, at run time:
under ``--fast`` a test that starts a process or runs cfn-lint is skipped
there ("runs in make test"), so a new test lands in its tier by itself.
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
# What a fixture needs, by name: a test using it (directly or through another fixture) has that marker.
NEEDS = {"mongo_uri": "db", "aws_server": "server", "aws_tls_server": "server"}
SLOW_TIER = ("db", "server", "subprocess", "build", "slow")
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


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The build folder, built once for the session like `make build` does."""
    from tools import build

    out = tmp_path_factory.mktemp("build")
    build.build(out)
    return out


def forget_cached_answers() -> None:
    """Empty every per-container cache the loaded handler modules hold, as a new database's answers differ."""
    from shared.cache import TTLCache

    for name, module in list(sys.modules.items()):
        if name.startswith("handlers.") or name.startswith("tests.fixtures."):
            for value in vars(module).values():
                if isinstance(value, TTLCache):
                    value.entries.clear()


@pytest.fixture
def database(test_client, mongo_uri, environment):
    """A fresh, empty database for one test, configured as the functions' database."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    environment(MONGODB_URI=mongo_uri, MONGODB_DATABASE=name)
    forget_cached_answers()
    yield test_client[name]
    test_client.drop_database(name)


def pytest_terminal_summary(terminalreporter) -> None:
    """Show the requests the local server logged as slow (1 s or more at its write gate), with where the time went."""
    slow = [
        line
        for path in SERVER_LOGS
        if path.exists()
        for line in path.read_text(errors="replace").splitlines()
        if 'msg="slow request"' in line
    ]
    if slow:
        terminalreporter.section("local database: slow requests")
        for line in slow:
            terminalreporter.write_line(line)


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        help="the fast tier: only tests that need no subprocess, server or build (make test-fast)",
    )


def pytest_configure(config) -> None:
    for name, description in (
        ("db", "needs the database server"),
        ("server", "needs a local server process"),
        ("subprocess", "starts a process"),
        ("build", "builds the functions' zips"),
    ):
        config.addinivalue_line("markers", f"{name}: {description} (make test only)")
    if config.getoption("fast"):
        _refuse_slow_engines()


def pytest_collection_modifyitems(config, items) -> None:
    """Mark each test by the fixtures it uses; under ``--fast``, deselect those of the whole suite's tier."""
    for item in items:
        for fixture in set(getattr(item, "fixturenames", ())) & NEEDS.keys():
            item.add_marker(NEEDS[fixture])
    if not config.getoption("fast"):
        return
    slow = [item for item in items if any(item.get_closest_marker(name) for name in SLOW_TIER)]
    config.hook.pytest_deselected(items=slow)
    items[:] = [item for item in items if item not in set(slow)]


REFUSED: list[str] = []  # under --fast: what the running test started that belongs to make test


def refuse(what: str) -> None:
    REFUSED.append(what)
    pytest.skip(f"{what}: runs in make test")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that failed after a refusal (it caught the skip, or a thread of it met it) is skipped too."""
    report = yield
    if report.failed and REFUSED:
        report.outcome, report.longrepr = "skipped", (str(item.path), item.location[1] or 0, REFUSED[0])
    if call.when == "teardown":
        REFUSED.clear()
    return report


def _refuse_slow_engines() -> None:
    """Under ``--fast``, starting a process or a cfn-lint run skips the test: it belongs to ``make test``."""
    import subprocess

    from tools.checks import cfnlint

    def refuse_process(self, args, *rest, **options):
        command = args if isinstance(args, str) else " ".join(map(str, args))
        refuse(f"starts a process ({command[:60]})")

    def refuse_cfn_lint(*args, **options):
        refuse("runs cfn-lint (seconds a template)")

    subprocess.Popen._execute_child = refuse_process
    cfnlint.lint_file = cfnlint.lint_document = refuse_cfn_lint
