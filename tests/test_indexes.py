"""Indexes: created by the deploy step only, idempotently; never at import or on a request."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pymongo import IndexModel, monitoring

from handlers import health
from shared import db
from tests.apigw import parsed, rest_authorizer, rest_event
from tests.fixtures.resources import parcels
from tools.indexes import ROOT, create_indexes, declared_indexes, index_modules


class CommandLog(monitoring.CommandListener):
    """Names of the commands sent while recording (pymongo's listeners cannot be unregistered)."""

    def __init__(self) -> None:
        self.recording = False
        self.commands: list[str] = []

    def started(self, event) -> None:
        if self.recording:
            self.commands.append(event.command_name)

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


COMMAND_LOG = CommandLog()
monitoring.register(COMMAND_LOG)  # applies to every client created from now on


@pytest.fixture
def command_log(database):
    """Every command the functions' client sends during the test."""
    db.close()
    COMMAND_LOG.commands.clear()
    COMMAND_LOG.recording = True
    yield COMMAND_LOG
    COMMAND_LOG.recording = False


@pytest.fixture
def project(tmp_path) -> Path:
    """A project of the toolkit whose only handler module is the fixture resource, parcels (one index)."""
    for package in ("shared", "tools"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "__init__.py").write_text("")
    shutil.copy(Path(parcels.__file__), tmp_path / "handlers" / "parcels.py")
    return tmp_path


def make_indexes(env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """``python -m tools.indexes`` in the project at ``cwd``, with only ``env`` (no PATH)."""
    return subprocess.run(
        [sys.executable, "-m", "tools.indexes"],
        capture_output=True,
        text=True,
        env={"PATH": "", **env},
        cwd=cwd,
        timeout=60,
    )


def test_create_indexes_is_idempotent(database):
    indexes = {**declared_indexes(), **parcels.INDEXES}  # whatever the repository declares, and one index at least
    first = create_indexes(database, indexes)
    second = create_indexes(database, indexes)
    assert first == second == [index.document["name"] for models in indexes.values() for index in models]


@pytest.mark.parametrize("count", [1, 2, 3])
def test_creating_several_indexes_of_one_collection_twice_succeeds(database, count):
    indexes = {"notes": [IndexModel([(field, 1)], name=f"notes_by_{field}") for field in "abc"[:count]]}
    first = create_indexes(database, indexes)
    second = create_indexes(database, indexes)
    assert first == second == [f"notes_by_{field}" for field in "abc"[:count]]
    assert len(database.notes.index_information()) == count + 1


def test_make_indexes_a_second_time_succeeds_and_says_the_same(database, mongo_uri, project):
    runs = [make_indexes({"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": database.name}, project) for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0], runs[1].stderr
    assert runs[0].stdout == runs[1].stdout == f"index ready: {database.name}.parcels_by_owner_status\n"


def test_no_request_creates_an_index(command_log):
    authorizer = rest_authorizer()
    body = {"recipient": "Bob", "lines": [{"sku": "SKU-1", "quantity": 1, "price": 2.5}]}
    status, _, parcel = parsed(
        parcels.lambda_handler(rest_event("POST", "/parcels", body=body, authorizer=authorizer), None)
    )
    assert status == 201
    for event in (
        rest_event("GET", "/parcels", query={"status": "open"}, authorizer=authorizer),
        rest_event("GET", f"/parcels/{parcel['id']}", authorizer=authorizer),
        rest_event("POST", f"/parcels/{parcel['id']}/cancel", authorizer=authorizer),
    ):
        assert parsed(parcels.lambda_handler(event, None))[0] == 200
    assert parsed(health.lambda_handler(rest_event("GET", "/health", query={"deep": "true"}), None))[0] == 200
    assert command_log.commands, "the listener saw no command at all"
    assert not {"createIndexes", "create", "dropIndexes"} & set(command_log.commands)


def function_modules() -> list[str]:
    """The repository's handler modules (whatever is declared) and the fixture resource."""
    handlers = [f"handlers.{path.stem}" for path in sorted((ROOT / "handlers").glob("[!_]*.py"))]
    return [*handlers, "tests.fixtures.resources.parcels"]


def test_importing_the_functions_sends_no_command(mongo_uri):
    code = (  # importing connects early (shared.early_db, as a database function's first lines), sends no command
        "import threading, pymongo.monitoring as monitoring\n"
        "from shared import early_db\n"
        "class Log(monitoring.CommandListener):\n"
        "    seen = []\n"
        "    def started(self, event): self.seen.append(event.command_name)\n"
        "    def succeeded(self, event): pass\n"
        "    def failed(self, event): pass\n"
        "monitoring.register(Log())\n"
        "early_db.start()\n"
        f"import {', '.join(function_modules())}, shared.db\n"
        "[thread.join(10) for thread in threading.enumerate() if thread.name == 'db-connect']\n"
        "print(shared.db._client is not None, Log.seen)"
    )
    env = {"MONGODB_URI": mongo_uri, "PATH": ""}
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=ROOT)
    assert output.stdout.strip() == "True []"


def test_make_indexes_command_creates_them(database, mongo_uri, project):
    output = make_indexes({"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": database.name}, project)
    assert output.returncode == 0, output.stderr
    assert "parcels_by_owner_status" in output.stdout
    assert "parcels_by_owner_status" in database.parcels.index_information()


def test_indexes_are_collected_by_collection_from_the_modules_that_declare_them(project):
    assert index_modules(project) == ["handlers.parcels"]
    declared = declared_indexes(["tests.fixtures.resources.parcels"])
    assert {collection: [index.document["name"] for index in indexes] for collection, indexes in declared.items()} == {
        "parcels": ["parcels_by_owner_status"]
    }


def test_a_new_module_declaring_indexes_is_found_without_importing_the_others(tmp_path):
    for package in ("handlers", "shared", "orders"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "handlers" / "notes.py").write_text(
        "from pymongo import IndexModel\n\nINDEXES = {'notes': [IndexModel([('owner', 1)], name='notes_by_owner')]}\n"
    )
    (tmp_path / "handlers" / "ping.py").write_text("raise SystemExit('must not be imported')\n")
    (tmp_path / "shared" / "typed.py").write_text("INDEXES: dict = {}\n")
    (tmp_path / "orders" / "store.py").write_text("INDEXES = {}\n")
    assert index_modules(tmp_path) == ["handlers.notes", "orders.store", "shared.typed"]


def test_the_tools_tests_and_benchmarks_are_not_searched_for_indexes(tmp_path):
    for package in ("handlers", "tools", "tests", "bench"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "fixture.py").write_text("INDEXES = {}\n")
    assert index_modules(tmp_path) == ["handlers.fixture"]


def imported_modules(path) -> set[str]:
    """Every module a source file imports, at its top level or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def test_the_runtime_package_never_imports_the_tools():
    importers = [
        path.name
        for path in sorted((ROOT / "shared").glob("*.py"))
        if any(name == "tools" or name.startswith("tools.") for name in imported_modules(path))
    ]
    assert importers == []


def test_two_modules_declaring_one_index_name_differently_is_an_error():
    import types

    from pymongo import IndexModel

    first = types.ModuleType("first_owner")
    first.INDEXES = {"notes": [IndexModel([("owner", 1)], name="notes_main")]}
    second = types.ModuleType("second_owner")
    second.INDEXES = {"notes": [IndexModel([("title", 1)], name="notes_main")]}
    sys.modules.update(first_owner=first, second_owner=second)
    try:
        with pytest.raises(ValueError, match="notes_main"):
            declared_indexes(["first_owner", "second_owner"])
    finally:
        del sys.modules["first_owner"], sys.modules["second_owner"]


def test_make_indexes_without_mongodb_uri_uses_the_local_database_on_db_port(database, mongo_port, project):
    output = make_indexes({"DB_PORT": str(mongo_port), "MONGODB_DATABASE": database.name}, project)
    assert output.returncode == 0, output.stderr
    assert f"a server already listening on DB_PORT {mongo_port}" in output.stderr
    assert "parcels_by_owner_status" in database.parcels.index_information()


def test_make_indexes_names_the_port_it_tried(project):
    import socket

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        output = make_indexes({"DB_PORT": str(port), "MONGODB_TIMEOUT_MS": "300"}, project)
    assert output.returncode == 1
    assert output.stderr.splitlines()[-1] == (
        f"make indexes: cannot create the indexes on mongodb://127.0.0.1:{port}/"
        ": no answer within MONGODB_TIMEOUT_MS=300 ms"
    )


def test_make_indexes_refuses_a_bad_db_port_in_one_line():
    output = subprocess.run(
        [sys.executable, "-m", "tools.indexes"],
        capture_output=True,
        text=True,
        env={"DB_PORT": "notaport", "PATH": ""},
        timeout=60,
    )
    assert (output.returncode, output.stderr) == (
        2,
        "make indexes: DB_PORT must be a port number from 1 to 65535, got 'notaport'\n",
    )
