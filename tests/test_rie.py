"""The real Lambda runtime path: aws-lambda-rie with awslambdaric, as AWS's Python base images run handlers."""

from __future__ import annotations

import copy
import importlib
import json
import re
import uuid
from pathlib import Path

import pymongo
import pytest

from tests.apigw import rest_event
from tests.fixtures.gateway_server import LocalGateway, write_test_template
from tools import loopback, rie, samtemplate, seed
from tools.gateway.workers import with_handler_fix
from tools.invoke import function_for, load_event
from tools.lambda_context import Context
from tools.local_token import mint_local_token

ROOT = Path(__file__).resolve().parent.parent
EVENTS = sorted((ROOT / "events").rglob("*.json"))
MISBEHAVE = "tests.fixtures.gateway_functions.misbehave"
VARIES = "<differs between two runs>"


@pytest.fixture
def start_rie(tmp_path):
    """Start a handler under RIE on a free port (stopped after the test); returns the port."""
    processes = []
    log = open(tmp_path / "rie.log", "wb")  # noqa: SIM115 - closed below

    def start(handler: str, env: dict[str, str]) -> int:
        port = loopback.free_port()
        processes.append(rie.start(handler, port, env, log_file=log))
        return port

    start.log_path = tmp_path / "rie.log"
    yield start
    for process in processes:
        rie.stop(process)
    log.close()


def in_process(handler_path: str, function_name: str, event: dict):
    module, _, attribute = handler_path.rpartition(".")
    handler = getattr(importlib.import_module(module), attribute)
    try:
        return handler(copy.deepcopy(event), Context(function_name))
    except Exception as exc:
        return {"raised": [type(exc).__name__, str(exc)]}


def under_rie(port: int, event: dict):
    try:
        return rie.invoke(port, event, timeout=15)
    except rie.FunctionError as exc:
        return {"raised": [exc.error_type, str(exc)]}


def comparable(result):
    """``result`` with its JSON body parsed, so that its values can be compared one by one."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return result
    result = dict(result)
    if result["body"] and result["headers"].get("content-type", "").endswith("json"):
        result["body"] = json.loads(result["body"])
    return result


def masked(value, first, second):
    """``value`` with :data:`VARIES` wherever two runs of the same event (``first``, ``second``) disagree: what
    a write makes new each time, such as an id, a revision, a time, a Location."""
    if all(isinstance(item, dict) for item in (value, first, second)):
        return {key: masked(value[key], first.get(key), second.get(key)) for key in value}
    if (
        all(isinstance(item, list) for item in (value, first, second))
        and len({len(value), len(first), len(second)}) == 1
    ):
        return [masked(*items) for items in zip(value, first, second, strict=True)]
    return VARIES if first != second else value


def fresh(database) -> None:
    """The database as every run of an event starts from: empty, then every module's SEED."""
    for name in database.list_collection_names():
        database[name].delete_many({})
    seed.plant(database)


@pytest.mark.parametrize("path", EVENTS, ids=lambda path: str(path.relative_to(ROOT / "events")))
def test_rie_answers_each_event_as_the_in_process_path_does(path, database, start_rie, mongo_uri):
    event = load_event(path)
    function_name, handler = function_for(event, samtemplate.load())
    env = {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": database.name,
        "STAGE": "local",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "10",
    }
    port = start_rie(handler, env)
    answers = []
    for runtime in ("in process", "in process", "rie"):
        fresh(database)
        answer = under_rie(port, event) if runtime == "rie" else in_process(handler, function_name, event)
        answers.append(comparable(answer))
    first, second, rie_answer = answers
    assert first.get("statusCode", 200) < 500
    assert masked(rie_answer, first, second) == masked(first, first, second)


def misbehaving(how: str, **query: str) -> dict:
    event = rest_event("GET", f"/misbehave/{how}", query=query)
    event["pathParameters"] = {"how": how}
    return event


def test_rie_prints_report_lines_and_only_the_first_has_init_duration(start_rie):
    port = start_rie(MISBEHAVE, {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"})
    for _ in range(2):
        rie.invoke(port, misbehaving("ok"), timeout=10)
    lines = start_rie.log_path.read_text().splitlines()
    reports = [report for line in lines if (report := rie.parse_report(line))]
    assert len(reports) == 2
    assert "Init Duration" in reports[0] and "Init Duration" not in reports[1]
    assert all(report["Duration"].endswith(" ms") and report["Max Memory Used"] == "256 MB" for report in reports)


def test_one_rie_process_serves_many_invocations_in_one_runtime(start_rie):
    port = start_rie(MISBEHAVE, {})
    pids = {json.loads(rie.invoke(port, misbehaving("ok"), timeout=10)["body"])["pid"] for _ in range(3)}
    assert len(pids) == 1


def test_after_a_timeout_rie_answers_the_next_invocation_from_a_new_runtime(start_rie):
    port = start_rie(MISBEHAVE, {"AWS_LAMBDA_FUNCTION_TIMEOUT": "1"})
    before = json.loads(rie.invoke(port, misbehaving("ok"), timeout=10)["body"])["pid"]
    with pytest.raises(rie.InvokeTimeout, match=re.escape("Task timed out after 1.00 seconds")):
        rie.invoke(port, misbehaving("sleep", seconds="5"), timeout=10)
    after = json.loads(rie.invoke(port, misbehaving("ok"), timeout=10)["body"])["pid"]
    assert after != before


def test_a_handler_exception_comes_back_as_a_function_error(start_rie):
    port = start_rie(MISBEHAVE, {})
    with pytest.raises(rie.FunctionError, match="failing on purpose") as raised:
        rie.invoke(port, misbehaving("raise"), timeout=10)
    assert raised.value.error_type == "RuntimeError"


def test_after_the_runtime_exits_rie_fails_that_invocation_and_serves_the_next(start_rie):
    port = start_rie(MISBEHAVE, {})
    with pytest.raises(rie.RIEError, match=re.escape("Runtime.ExitError")):
        rie.invoke(port, misbehaving("exit"), timeout=10)
    assert rie.invoke(port, misbehaving("ok"), timeout=10)["statusCode"] == 200


@pytest.mark.parametrize(
    "handler, error",
    [
        (
            "tests.fixtures.no_such_module.handler",
            "Runtime.ImportModuleError: Unable to import module "
            "'tests.fixtures.no_such_module': No module named "
            "'tests.fixtures.no_such_module'",
        ),
        (
            "tests.fixtures.gateway_functions.no_such_function",
            "Runtime.HandlerNotFound: Handler 'no_such_function' missing on module 'tests.fixtures.gateway_functions'",
        ),
    ],
)
def test_a_handler_that_does_not_load_is_the_runtimes_error_in_one_line(start_rie, handler, error):
    port = start_rie(handler, {})
    with pytest.raises(rie.RIEError) as raised:
        rie.invoke(port, misbehaving("ok"), timeout=10)
    assert str(raised.value) == error


def test_the_gateway_on_rie_adds_the_fix_to_a_wrong_handler():
    detail = "Runtime.ImportModuleError: Unable to import module 'handlers.mee': No module named 'handlers.mee'"
    assert with_handler_fix(detail, "handlers.mee.lambda_handler") == (
        f"{detail}: fix Handler handlers.mee.lambda_handler in template.yaml"
    )
    inner = "Runtime.ImportModuleError: Unable to import module 'handlers.me': No module named 'yaml'"
    assert with_handler_fix(inner, "handlers.me.lambda_handler") == inner


@pytest.fixture(scope="module")
def rie_gateway(mongo_uri, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rie-gateway")
    database = f"test_rie_gateway_{uuid.uuid4().hex[:8]}"
    env = {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": database,
        "GATEWAY_AUTHORIZER_COUNT": str(folder / "authorizer-calls.txt"),
    }
    template = write_test_template(folder / "template.yaml")
    server = LocalGateway(folder / "gateway.log", "--template", str(template), "--runtime", "rie", env=env)
    yield server
    server.stop()
    with pymongo.MongoClient(mongo_uri) as client:
        client.drop_database(database)


def test_the_gateway_on_rie_serves_a_route_behind_the_authorizer_and_logs_report_lines(rie_gateway):
    answer = rie_gateway.request("GET", "/parcels", {"Authorization": f"Bearer {mint_local_token('rie-user')}"})
    assert (answer.status, answer.json()) == (200, {"items": []})
    [line] = [line for line in rie_gateway.log().splitlines() if " GET /parcels 200 " in line]
    assert re.search(r"FixtureParcelsFunction \(cold start, Duration [\d.]+ ms\)$", line), line


def test_the_gateway_on_rie_shows_the_runtime_lines_with_logs_json(mongo_uri, tmp_path):
    env = {"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": f"test_rie_json_{uuid.uuid4().hex[:8]}"}
    server = LocalGateway(tmp_path / "gateway.log", "--runtime", "rie", "--logs", "json", env=env)
    try:
        assert server.request("GET", "/health").status == 200
    finally:
        server.stop()
    lines = server.log().splitlines()
    assert any("[HealthFunction] REPORT RequestId:" in line for line in lines)
    assert any('[HealthFunction] {"_aws"' in line and '"message":"request"' in line for line in lines)


def test_the_gateway_on_rie_round_trips_a_binary_body(rie_gateway):
    payload = bytes(range(256))
    answer = rie_gateway.request("POST", "/echo", {"Content-Type": "application/octet-stream"}, payload)
    assert (answer.status, answer.body) == (200, payload)


def test_the_gateway_on_rie_gives_504_on_timeout_then_serves_again(rie_gateway):
    answer = rie_gateway.request("GET", "/misbehave/sleep?seconds=5")
    assert (answer.status, answer.json()) == (504, {"message": "Endpoint request timed out"})
    assert rie_gateway.request("GET", "/misbehave/ok").status == 200


def test_the_gateway_on_rie_gives_502_on_a_crash_then_serves_again(rie_gateway):
    assert rie_gateway.request("GET", "/misbehave/exit").status == 502
    assert rie_gateway.request("GET", "/misbehave/ok").status == 200
