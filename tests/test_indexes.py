"""Indexes: created by the deploy step only, idempotently; never at import or on a request."""

import subprocess
import sys

import pytest
from pymongo import monitoring

from handlers import health, me, users
from shared import db
from shared.indexes import INDEXES, create_indexes
from tests.apigw import parsed, rest_authorizer, rest_event


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


def test_create_indexes_is_idempotent(database):
    first = create_indexes(database)
    second = create_indexes(database)
    assert first == second == [index.document["name"] for indexes in INDEXES.values() for index in indexes]


def test_no_request_creates_an_index(command_log):
    authorizer = rest_authorizer()
    for event in (
        rest_event("GET", "/me", authorizer=authorizer),
        rest_event("PATCH", "/me", body={"bio": "x"}, authorizer=authorizer),
        rest_event("GET", "/users/alice", authorizer=authorizer),
        rest_event("GET", "/users", query={"limit": "5"}, authorizer=authorizer),
        rest_event("DELETE", "/me", authorizer=authorizer),
    ):
        handler = users if event["path"].startswith("/users") else me
        assert parsed(handler.lambda_handler(event, None))[0] < 300
    assert parsed(health.lambda_handler(rest_event("GET", "/health", query={"deep": "true"}), None))[0] == 200
    assert command_log.commands, "the listener saw no command at all"
    assert not {"createIndexes", "create", "dropIndexes"} & set(command_log.commands)


def test_importing_the_functions_sends_no_command(mongo_uri):
    code = (  # importing connects early (shared.early_db), but must not send a command
        "import threading, pymongo.monitoring as monitoring\n"
        "class Log(monitoring.CommandListener):\n"
        "    seen = []\n"
        "    def started(self, event): self.seen.append(event.command_name)\n"
        "    def succeeded(self, event): pass\n"
        "    def failed(self, event): pass\n"
        "monitoring.register(Log())\n"
        "import handlers.me, handlers.users, handlers.health, shared.db\n"
        "[thread.join(10) for thread in threading.enumerate() if thread.name == 'db-connect']\n"
        "print(shared.db._client is not None, Log.seen)"
    )
    env = {"MONGODB_URI": mongo_uri, "PATH": ""}
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert output.stdout.strip() == "True []"


def test_make_indexes_command_creates_them(database, mongo_uri):
    env = {"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": database.name, "PATH": ""}
    output = subprocess.run([sys.executable, "-m", "shared.indexes"], capture_output=True, text=True, env=env)
    assert output.returncode == 0, output.stderr
    assert "profiles_newest_first" in output.stdout
    assert "profiles_newest_first" in database.profiles.index_information()
