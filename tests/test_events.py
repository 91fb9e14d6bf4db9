"""The event files in events/: each is routed by the template and answered with its route's declared status.

Every event runs on a database holding every handler module's ``SEED`` (tools/seed.py): a new resource
needs no edit here, and the suite holds whatever set of resources ``handlers/`` declares.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.apigw import parsed
from tools import samtemplate, seed
from tools.checks import declarations, event_files
from tools.invoke import function_for, is_authorizer_event, load_event

ROOT = Path(__file__).resolve().parent.parent
EVENTS = sorted(path.relative_to(ROOT) for path in (ROOT / "events").rglob("*.json"))
API_EVENTS = [path for path in EVENTS if not is_authorizer_event(json.loads((ROOT / path).read_text()))]
ROUTES = {route.key: route for route in declarations.declared_routes()}


def handler_for(event):
    _, handler_path = function_for(event, samtemplate.load())
    module, _, attribute = handler_path.rpartition(".")
    return getattr(__import__(module, fromlist=[attribute]), attribute)


def route_of(path: Path) -> declarations.Declared:
    return ROUTES[event_files.event_route(load_event(ROOT / path))[:2]]


@pytest.mark.parametrize("path", API_EVENTS, ids=str)
def test_event_is_answered_by_its_function_with_its_routes_status(path, database):
    seed.plant(database)
    event = load_event(ROOT / path)
    status, headers, body = parsed(handler_for(event)(event, None))
    assert status == ROUTES[event_files.event_route(event)[:2]].success, body
    if body is not None:
        assert headers["content-type"] == "application/json"


@pytest.mark.slow
def test_make_invoke_on_a_fresh_database_answers_every_events_declared_status(database, mongo_uri):
    """What a developer sees: no sign-in first, the handler modules' SEED stored because the local database is
    empty. One test for every event file, so that selecting a resource's events (``-k``) leaves it out."""
    env = invoke_environment(database, mongo_uri)
    if "DB_PORT" not in env:
        pytest.skip("only a local database is seeded unasked; the test's server is elsewhere")
    wrong = []
    for path in API_EVENTS:
        result = subprocess.run(
            [sys.executable, "-m", "tools.invoke", str(path), "--db", "fresh"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        answer = json.loads(result.stdout[result.stdout.index("{\n") :]) if "{\n" in result.stdout else {}
        expected = route_of(path).success
        if answer.get("statusCode") != expected:
            wrong.append(f"{path}: {answer.get('statusCode')}, not {expected}: {result.stderr[-300:]}")
    assert wrong == []


def test_every_declared_route_has_a_rest_api_event_and_every_event_a_declared_route():
    assert event_files.check_event_files(declarations.declared_routes()) == []


def invoke_environment(database, mongo_uri: str) -> dict[str, str]:
    """make invoke's environment for the test's server: the one it finds on DB_PORT, or MONGODB_URI."""
    address = urlsplit(mongo_uri)
    env = {name: value for name, value in os.environ.items() if name != "MONGODB_URI"}
    env["MONGODB_DATABASE"] = database.name
    if address.hostname in ("127.0.0.1", "localhost") and address.port:
        env["DB_PORT"] = str(address.port)  # the server make invoke finds already listening
    else:
        env["MONGODB_URI"] = mongo_uri
    return env


def test_make_invoke_prints_the_answer_and_the_cold_start(database, mongo_uri):
    """On the event of a route behind the authorizer when one is declared (its principal comes from the event)."""
    path = next((path for path in API_EVENTS if not route_of(path).public), API_EVENTS[0])
    seed.plant(database)
    result = subprocess.run(
        [sys.executable, "-m", "tools.invoke", str(path)],
        cwd=ROOT,
        env=invoke_environment(database, mongo_uri),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout[result.stdout.index("{\n") :])
    assert response["statusCode"] == route_of(path).success, response
    assert "cold start" in result.stderr and "import" in result.stderr
