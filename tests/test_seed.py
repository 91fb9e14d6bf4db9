"""Local data: the handler modules' SEED documents, stored by make seed, and by make invoke and make serve on an
empty database, without overwriting a person's changes unasked."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pymongo
import pytest

from tests.fixtures.gateway_server import LocalGateway
from tests.fixtures.resources import parcels
from tools import seed
from tools.cli import CommandError
from tools.database import Database
from tools.local_token import mint_local_token

ROOT = Path(__file__).resolve().parent.parent
PARCEL_ID = str(parcels.SEED["parcels"][0]["_id"])  # its owner is alice
NOTES_MODULE = """
from bson import ObjectId

SEED = {"notes": [{"_id": ObjectId("65f1a0c2e4b0a1b2c3d4e5f6"), "owner": "alice", "title": "Groceries"},
                  {"_id": ObjectId("65f1a0c2e4b0a1b2c3d4e5f7"), "owner": "bob", "title": "Tools"}],
        "tags": [{"_id": "food"}]}
"""


@pytest.fixture
def handlers(tmp_path, monkeypatch):
    """A handlers folder of a project of its own, holding a notes module with SEED and a module without."""
    package = f"seeded_handlers_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / package
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "notes.py").write_text(NOTES_MODULE)
    (folder / "health.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return folder


NOT_COPIED = shutil.ignore_patterns(".git", ".venv", ".local", "__pycache__", ".*_cache", ".hypothesis", ".aws-sam")


def repository_with_parcels(folder: Path) -> Path:
    """A copy of the repository in ``folder`` with the fixture resource, parcels (a SEED document), added as a
    person adds a resource: its module in handlers/, then make generate (its function, events and dashboard)."""
    shutil.copytree(ROOT, folder, ignore=NOT_COPIED, dirs_exist_ok=True)
    for environment in (".venv", ".local"):
        (folder / environment).symlink_to((ROOT / environment).resolve(), target_is_directory=True)
    shutil.copy(Path(parcels.__file__), folder / "handlers" / "parcels.py")
    subprocess.run([sys.executable, "-m", "tools.generate"], cwd=folder, check=True, capture_output=True, timeout=120)
    return folder


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return repository_with_parcels(tmp_path_factory.mktemp("project"))


def make_seed(project: Path, env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    """``make seed`` (``python -m tools.seed``) in ``project``."""
    return subprocess.run(
        [sys.executable, "-m", "tools.seed", *arguments],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def local_port(mongo_uri: str) -> int:
    """The port of the test's server when it is on loopback, as make db's is; the test is skipped otherwise."""
    address = urlsplit(mongo_uri)
    if address.hostname not in ("127.0.0.1", "localhost") or not address.port:
        pytest.skip("only a local database is seeded unasked; the test's server is elsewhere")
    return address.port


def local_run_environment(database_name: str, mongo_uri: str) -> dict[str, str]:
    """What make invoke, make serve and make seed need to use the test's server as a local one (DB_PORT)."""
    env = {name: value for name, value in os.environ.items() if name != "MONGODB_URI"}
    return {**env, "MONGODB_DATABASE": database_name, "DB_PORT": str(local_port(mongo_uri))}


def test_seeds_are_read_from_every_module_that_declares_them(handlers):
    found = seed.seeds(handlers)
    assert sorted(found) == ["notes", "tags"]
    assert [document["title"] for document in found["notes"]] == ["Groceries", "Tools"]


def test_a_seed_document_without_an_id_is_refused_with_its_module(handlers):
    (handlers / "broken.py").write_text("SEED = {'things': [{'name': 'no id'}]}\n")
    with pytest.raises(CommandError, match=rf"{handlers.name}\.broken: every SEED document needs an _id"):
        seed.seeds(handlers)


def test_storing_inserts_the_documents_that_are_missing(handlers, database):
    outcomes = seed.store(database, seed.seeds(handlers))
    assert {name: len(outcome.stored) for name, outcome in outcomes.items()} == {"notes": 2, "tags": 1}
    assert database.notes.count_documents({}) == 2


def test_storing_again_keeps_a_changed_document_and_says_so(handlers, database):
    found = seed.seeds(handlers)
    seed.store(database, found)
    database.notes.update_one({"owner": "alice"}, {"$set": {"title": "Changed by hand"}})
    lines = seed.describe(seed.store(database, found))
    assert database.notes.find_one({"owner": "alice"})["title"] == "Changed by hand"
    assert lines[0].startswith("seed: notes: stored 0; kept 2 already there as they are (_id 65f1a0c2e4b0a1b2c3d4e5f6")
    assert "REPLACE=1" in lines[0]


def test_replacing_puts_the_seed_version_back_and_says_which(handlers, database):
    found = seed.seeds(handlers)
    seed.store(database, found)
    database.notes.update_one({"owner": "alice"}, {"$set": {"title": "Changed by hand"}})
    lines = seed.describe(seed.store(database, found, replace=True))
    assert database.notes.find_one({"owner": "alice"})["title"] == "Groceries"
    assert (
        lines[0] == "seed: notes: stored 0; replaced 2 by SEED's version (_id 65f1a0c2e4b0a1b2c3d4e5f6, "
        "65f1a0c2e4b0a1b2c3d4e5f7)"
    )


def test_make_seed_stores_the_handlers_seed_then_keeps_it(database, mongo_uri, project):
    env = local_run_environment(database.name, mongo_uri)
    runs = [make_seed(project, env) for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0], runs[-1].stderr
    assert "seed: parcels: stored 1" in runs[0].stdout.splitlines()
    assert runs[1].stdout and all("kept" in line for line in runs[1].stdout.splitlines())
    assert database.parcels.find_one({"_id": parcels.SEED["parcels"][0]["_id"]})["owner"] == "alice"


def test_an_empty_database_is_seeded_and_says_so(handlers, database, mongo_uri):
    lines = seed.seed_database(mongo_uri, database.name, if_empty=True, folder=handlers)
    assert lines[0] == f"seed: {database.name} is empty: storing the SEED documents of handlers/ first"
    assert (database.notes.count_documents({}), database.tags.count_documents({})) == (2, 1)


def test_a_database_with_indexes_but_no_document_counts_as_empty(handlers, database, mongo_uri):
    database.notes.create_index("title")
    lines = seed.seed_database(mongo_uri, database.name, if_empty=True, folder=handlers)
    assert lines[0] == f"seed: {database.name} is empty: storing the SEED documents of handlers/ first"


def test_collections_that_hold_anything_are_left_alone_when_only_empty_ones_are_seeded(handlers, database, mongo_uri):
    database.notes.insert_one({"_id": "mine", "title": "Mine"})
    database.tags.insert_one({"_id": "work"})
    assert seed.seed_database(mongo_uri, database.name, if_empty=True, folder=handlers) == []
    assert list(database.notes.find()) == [{"_id": "mine", "title": "Mine"}]


def test_a_database_mongodb_uri_names_is_never_seeded_unasked(mongo_uri):
    chosen = Database(mongo_uri, "never_seeded", "MONGODB_URI", local=False)
    assert seed.seed_if_empty(chosen) == []


def test_make_serve_on_an_empty_local_database_seeds_it_before_the_first_request(
    tmp_path, mongo_uri, monkeypatch, project
):
    monkeypatch.delenv("MONGODB_URI", raising=False)
    name = f"test_serve_seed_{uuid.uuid4().hex[:8]}"
    env = {"DB_PORT": str(local_port(mongo_uri)), "MONGODB_DATABASE": name}
    server = LocalGateway(tmp_path / "gateway.log", env=env, cwd=project)  # the project's template and handlers
    try:
        token = mint_local_token("alice")
        assert server.request("GET", f"/parcels/{PARCEL_ID}", {"Authorization": f"Bearer {token}"}).status == 200
        lines = [line.partition(" ")[2] for line in server.log().splitlines()]
        assert f"seed: {name} is empty: storing the SEED documents of handlers/ first" in lines
    finally:
        server.stop()
        with pymongo.MongoClient(mongo_uri) as client:
            client.drop_database(name)


def test_make_invoke_on_an_empty_database_seeds_it_first_so_a_read_event_finds_its_document(
    database, mongo_uri, project
):
    env = local_run_environment(database.name, mongo_uri)
    assert PARCEL_ID in (project / "events" / "parcel.json").read_text()  # the event reads the SEED document
    result = subprocess.run(
        [sys.executable, "-m", "tools.invoke", "events/parcel.json"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"seed: {database.name} is empty: storing the SEED documents of handlers/ first" in result.stderr
    assert json.loads(result.stdout[result.stdout.index("{\n") :])["statusCode"] == 200


def test_on_a_database_in_use_only_the_collections_that_hold_nothing_are_seeded(handlers, database, mongo_uri):
    database.notes.insert_one({"_id": "mine"})
    lines = seed.seed_database(mongo_uri, database.name, if_empty=True, folder=handlers)
    assert lines == [
        f"seed: tags in {database.name} hold(s) no document: storing the SEED documents there first",
        "seed: tags: stored 1",
    ]
    assert list(database.notes.find()) == [{"_id": "mine"}]
