"""Hot reload of ``make serve``, and mistakes that take an edited project: each in a temporary copy of the repo.

The gateway runs from the copy (its workers import the copy's handlers), so
the edits here never touch the real tree. The copy the reload tests serve has one resource of its own,
added as a person adds one: the fixture resource (tests/fixtures/resources/parcels.py) copied to
``handlers/parcels.py``, then ``make generate``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from tests.fixtures.gateway_server import LocalGateway, write_test_template
from tools import loopback, samtemplate
from tools.local_token import mint_local_token

ROOT = Path(__file__).resolve().parent.parent
RESOURCE = ROOT / "tests" / "fixtures" / "resources" / "parcels.py"
# The tools, tests and events, and every package a function may import (handlers, shared, a resource's own).
COPIED = (
    "authorizer.py",
    "template.yaml",
    "openapi.yaml",
    "tools",
    "events",
    "tests",
    *sorted({path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tools", "tests", "bench"}),
)
SKIPPED = shutil.ignore_patterns("__pycache__", "localdb", "soak", "*.yaml.bak")
HELLO = """def lambda_handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "hello"}
"""
HELLO_ROUTE = """
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: handlers.hello.lambda_handler
      Events:
        Hello:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /hello
            Method: GET
            Auth:
              Authorizer: NONE
"""


def copy_project(target: Path) -> Path:
    """The files the gateway and ``make invoke`` serve, copied to ``target``; the built tools are shared."""
    target.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=SKIPPED)
        else:
            shutil.copy2(source, target / name)
    (target / ".local").symlink_to(ROOT / ".local")
    return target


def add_resource(root: Path) -> None:
    """The fixture resource copied to the project's ``handlers/parcels.py``, then ``make generate`` run there."""
    shutil.copyfile(RESOURCE, root / "handlers" / "parcels.py")
    subprocess.run([sys.executable, "-m", "tools.generate"], cwd=root, check=True, capture_output=True, timeout=120)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new))


class CopyGateway(LocalGateway):
    """``python -m tools.gateway`` run from a copy of the project."""

    def __init__(self, root: Path, *arguments: str, env: dict[str, str]) -> None:
        self.port = loopback.free_port()
        self.log_path = root / "gateway.log"
        self.log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tools.gateway", "--port", str(self.port), *arguments],
            cwd=root,
            env={**os.environ, **env},
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_listening()

    def lines(self, pattern: str) -> list[str]:
        return [line for line in self.log().splitlines() if re.search(pattern, line)]


def start(
    tmp_path_factory, mongo_uri: str, *arguments: str, resource: bool = False, **env: str
) -> tuple[Path, CopyGateway]:
    root = copy_project(tmp_path_factory.mktemp("project") / "bare-api")
    if resource:
        add_resource(root)
    environment = {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": f"test_reload_{uuid.uuid4().hex[:8]}",
        "STAGE": "local",
        **env,
    }
    return root, CopyGateway(root, *arguments, env=environment)


@pytest.fixture(scope="module")
def served(tmp_path_factory, mongo_uri):
    root, gateway = start(tmp_path_factory, mongo_uri, resource=True)
    yield root, gateway
    gateway.stop()


def bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_local_token(f'user-{uuid.uuid4().hex[:8]}')}"}


def test_a_handler_edit_shows_in_the_next_answer_with_one_reload_line(served):
    root, gateway = served
    assert gateway.request("GET", "/health").json() == {"status": "ok"}
    edit(root / "handlers/health.py", '{"status": "ok"}', '{"status": "edited"}')
    assert gateway.request("GET", "/health").json() == {"status": "edited"}
    [line] = gateway.lines(r"reloaded: handlers/health\.py changed")
    functions = len(samtemplate.functions(samtemplate.load(root / "template.yaml")))
    assert line.endswith(f"{functions} function(s) restart on their next request; authorizer cache kept")


def test_a_new_route_in_the_template_is_served(served):
    root, gateway = served
    assert gateway.request("GET", "/hello").status == 403  # no route yet: Missing Authentication Token
    (root / "handlers/hello.py").write_text(HELLO)
    routes = len(samtemplate.api_routes(samtemplate.load(root / "template.yaml"))) + 1  # GET /hello
    edit(root / "template.yaml", "\n  HealthFunction:\n", f"{HELLO_ROUTE}\n  HealthFunction:\n")
    answer = gateway.request("GET", "/hello")
    assert (answer.status, answer.body) == (200, b"hello")
    assert gateway.lines(rf"reloaded: handlers/hello\.py, template\.yaml changed; {routes} route\(s\)")


def test_a_syntax_error_is_one_line_and_a_502_then_the_fix_is_served(served):
    root, gateway = served
    health = root / "handlers/health.py"
    good = health.read_text()
    health.write_text(good + "\ndef broken(:\n")
    answer = gateway.request("GET", "/health")
    assert (answer.status, answer.json()) == (502, {"message": "Internal server error"})
    [line] = gateway.lines(r"GET /health 502 ")
    assert line.endswith(
        "crash: Runtime.UserCodeSyntaxError: Syntax error in module 'handlers.health': "
        f"invalid syntax (handlers/health.py, line {good.count(chr(10)) + 2}))"
    )
    assert "Traceback" not in gateway.log()
    health.write_text(good)
    assert gateway.request("GET", "/health").status == 200


def test_a_wrong_handler_in_the_template_is_one_line_naming_the_fix(served):
    root, gateway = served
    edit(root / "template.yaml", "Handler: handlers.parcels.lambda_handler", "Handler: handlers.parcel.lambda_handler")
    assert gateway.request("GET", "/parcels", bearer()).status == 502
    [line] = gateway.lines(r"GET /parcels 502 ")
    assert line.endswith(
        "crash: Runtime.ImportModuleError: Unable to import module 'handlers.parcel': no module named "
        "'handlers.parcel': fix Handler handlers.parcel.lambda_handler in template.yaml)"
    )
    edit(root / "template.yaml", "Handler: handlers.parcel.lambda_handler", "Handler: handlers.parcels.lambda_handler")
    assert gateway.request("GET", "/parcels", bearer()).status == 200


def test_a_template_that_no_longer_loads_is_one_line_and_the_previous_routes_stay_served(served):
    root, gateway = served
    template = root / "template.yaml"
    good = template.read_text()
    template.write_text(good + "\n  Broken: [unclosed\n")
    assert gateway.request("GET", "/health").status == 200
    [line] = gateway.lines(r"reloaded: template\.yaml changed; .*; the template does not load \(")
    assert line.endswith("): still serving the previous one")
    template.write_text(good)
    assert gateway.request("GET", "/health").status == 200


def test_a_handler_edit_keeps_the_authorizer_cache_and_an_authorizer_edit_empties_it(served):
    root, gateway = served
    token = bearer()
    assert gateway.request("GET", "/parcels", token).status == 200
    edit(root / "handlers/parcels.py", "from __future__", "# edited\nfrom __future__")
    assert gateway.request("GET", "/parcels", token).status == 200
    assert gateway.lines(r"reloaded: handlers/parcels\.py changed; .*; authorizer cache kept$")
    assert gateway.lines(r"GET /parcels 200 .* authorizer=hit ParcelsFunction \(cold start")
    edit(root / "shared/tokens.py", "from __future__", "# the authorizer imports this module\nfrom __future__")
    assert gateway.request("GET", "/parcels", token).status == 200
    assert gateway.lines(r"reloaded: shared/tokens\.py changed; .*; authorizer cache emptied$")
    assert gateway.request("GET", "/parcels", token).status == 200
    [*_, after_edit, last] = gateway.lines(r"GET /parcels 200 ")
    assert " authorizer=miss " in after_edit and " authorizer=hit " in last


def test_with_reload_off_the_old_code_keeps_answering(tmp_path_factory, mongo_uri):
    root, gateway = start(tmp_path_factory, mongo_uri, "--no-reload")
    try:
        assert gateway.request("GET", "/health").json() == {"status": "ok"}
        edit(root / "handlers/health.py", '{"status": "ok"}', '{"status": "edited"}')
        assert gateway.request("GET", "/health").json() == {"status": "ok"}
        assert not gateway.lines("reloaded: ") and gateway.lines(r"reload off\)$")
    finally:
        gateway.stop()


def pids_of_concurrent_requests(gateway, count: int) -> set[int]:
    pids, threads = [], []
    for _ in range(count):

        def ask() -> None:
            pids.append(gateway.request("GET", "/misbehave/sleep?seconds=0.5").json()["pid"])

        threads.append(threading.Thread(target=ask))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return set(pids)


@pytest.mark.parametrize("runtime", ["python", "rie"])
def test_every_warm_worker_is_replaced_after_an_edit(tmp_path_factory, mongo_uri, runtime):
    root = copy_project(tmp_path_factory.mktemp("project") / "bare-api")
    template = write_test_template(root / "test-template.yaml")
    gateway = CopyGateway(
        root,
        "--template",
        str(template),
        "--workers",
        "2",
        "--runtime",
        runtime,
        env={"MONGODB_URI": mongo_uri, "STAGE": "local"},
    )
    try:
        before = pids_of_concurrent_requests(gateway, 2)
        assert len(before) == 2
        edit(root / "tests/fixtures/gateway_functions.py", '"""Functions', '"""The functions')
        after = pids_of_concurrent_requests(gateway, 2)
        assert len(after) == 2 and not before & after
        assert gateway.lines(r"reloaded: tests/fixtures/gateway_functions\.py changed")
    finally:
        gateway.stop()


# make invoke, on a copy whose template names a Handler that does not load


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("invoke") / "bare-api")


def invoke_in(root: Path, event: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "STAGE": "local", "MONGODB_URI": "mongodb://127.0.0.1:1/"}
    return subprocess.run(
        [sys.executable, "-m", "tools.invoke", event],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    "handler, complaint",
    [
        (
            "handlers.healthy.lambda_handler",
            "HealthFunction: Unable to import module 'handlers.healthy': no module named 'handlers.healthy': "
            "fix Handler handlers.healthy.lambda_handler in template.yaml",
        ),
        (
            "handlers.health.handler",
            "HealthFunction: Handler 'handler' missing on module 'handlers.health': fix Handler "
            "handlers.health.handler in template.yaml",
        ),
    ],
)
def test_invoke_names_a_wrong_handler_in_one_line(project, handler, complaint):
    template = project / "template.yaml"
    original = template.read_text()
    template.write_text(original.replace("Handler: handlers.health.lambda_handler", f"Handler: {handler}"))
    try:
        result = invoke_in(project, "events/health.json")
    finally:
        template.write_text(original)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines()[-1] == f"make invoke: {complaint}"
