"""make verify: the checks only a deployed stage can answer, passed by the local gateway (make serve).

The gateway serves template.yaml plus the fixture resource (``GET /parcels`` behind the authorizer), so
that the checks of a guarded route run whatever resources the repository declares.
"""

from __future__ import annotations

import subprocess
import uuid

import pymongo
import pytest

from tests.fixtures.gateway_server import LocalGateway, write_resource_template
from tools import samtemplate, verify
from tools.checks.imports import ROOT
from tools.local_token import mint_local_token

FRONTEND = "http://localhost:5173"
MAKE_VERIFY = ["make", "-s", "-o", ".venv/.installed", "verify"]


@pytest.fixture(scope="module")
def served(mongo_uri, tmp_path_factory):
    folder = tmp_path_factory.mktemp("verify")
    database = f"verify_{uuid.uuid4().hex[:8]}"
    template = write_resource_template(folder / "template.yaml")
    server = LocalGateway(
        folder / "gateway.log",
        "--template",
        str(template),
        env={"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": database, "CORS_ALLOW_ORIGINS": FRONTEND},
    )
    server.template = samtemplate.load(template)
    yield server
    server.stop()
    with pymongo.MongoClient(mongo_uri) as client:
        client.drop_database(database)


def test_make_serve_passes_every_check_of_make_verify_on_template_yaml(served):
    token = mint_local_token(f"verify-{uuid.uuid4().hex[:8]}")
    result = subprocess.run(
        [*MAKE_VERIFY, f"URL={served.url}", f"TOKEN={token}", f"ORIGIN={FRONTEND}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("FAIL")] == [], result.stdout + result.stderr
    assert result.returncode == 0
    assert len([line for line in lines if line.startswith("PASS")]) == len(lines) - 1 >= 2
    assert lines[-1] == f"verify {served.url}: {len(lines) - 1} passed, 0 failed"


def test_each_check_is_one_line_naming_what_it_checked(served):
    results = verify.verify(served.url, origin=FRONTEND, template=served.template)
    assert [text.split(":")[0] for _, text in results] == [
        "PASS first request",
        "PASS warm requests",
        "PASS gateway answer",
        "PASS gateway answer CORS",
        "PASS gateway answer",
        "PASS gateway answer CORS",
        "PASS gateway answer",
        "PASS gateway answer CORS",
        "PASS preflight",
    ]


def test_an_origin_the_stage_does_not_allow_fails_the_preflight(served):
    # The gateway's own answers echo any Origin (they carry no data); the functions' preflight checks the list.
    results = verify.verify(served.url, origin="https://not-allowed.example.com", template=served.template)
    assert [text.split(":")[0] for passed, text in results if not passed] == ["FAIL preflight"]


def test_a_token_the_stage_refuses_fails_the_token_checks(served):
    results = verify.verify(served.url, token="not.a.token", template=served.template)
    failures = [text for passed, text in results if not passed]
    _, guarded = verify.routes(served.template)
    assert failures[:1] == [f"FAIL token: GET {guarded[0]} with the token answers 200 (got 401)"]


def test_the_routes_come_from_the_template(tmp_path):
    template = samtemplate.load(write_resource_template(tmp_path / "template.yaml"))
    open_path, guarded = verify.routes(template)
    declared = {
        (route.path, route.authorized)
        for route in samtemplate.api_routes(template)
        if route.method == "GET" and "{" not in route.path
    }
    assert {(open_path, False), *((path, True) for path in guarded)} <= declared
    assert "/parcels" in guarded


def test_make_verify_without_a_url_says_what_to_give():
    result = subprocess.run(MAKE_VERIFY, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "give the stage's base URL: make verify URL=https://" in result.stderr
