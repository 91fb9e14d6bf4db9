"""openapi.yaml: consistent with the routes the routers declare and the template, and honoured by the API over HTTP.

Every status a function answers must be one its operation documents: each event file, and variants of
it (without a caller, with a stale ``If-Match``, with ``If-None-Match``), runs through its function in
process on a database holding every handler module's ``SEED``, and an answer whose status the operation
does not list fails the test (a route that raises an error its declaration does not name, such as a 404
without ``errors=(NotFound,)``).

The contract test runs Schemathesis (property-based, on Hypothesis) against a
local gateway serving template.yaml, with a valid token, once as a REST API and
once as the HTTP API derived from it (``make serve API=http``, its Lambda
authorizer: local tokens are HS256): no answer may be a 5xx, and every answer
must match the description (status, content type, headers, body).
``CONTRACT_EXAMPLES`` sets how many examples per operation (``make fuzz`` runs
many more); the HTTP API runs a quarter of them.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from pathlib import Path

import pymongo
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings

from tests.apigw import parsed
from tests.fixtures.gateway_server import LocalGateway
from tools import samtemplate, seed
from tools.checks import declarations, event_files, openapi
from tools.invoke import function_for, is_authorizer_event, load_event
from tools.local_token import mint_local_token

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTION = ROOT / "openapi.yaml"
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "20"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]

schema = schemathesis.openapi.from_path(DESCRIPTION)


def documented() -> dict[tuple[str, str], dict]:
    """Each operation of openapi.yaml by (METHOD, path)."""
    return openapi.documented(yaml.safe_load(DESCRIPTION.read_text()))


def is_guarded(operation: dict) -> bool:
    security = operation.get("security", yaml.safe_load(DESCRIPTION.read_text())["security"])
    return bool(security)


def template_guards() -> dict[tuple[str, str], bool]:
    """What template.yaml routes, but preflights: (METHOD, path) -> behind the authorizer."""
    return {
        (route.method, route.path): route.authorized
        for route in samtemplate.api_routes(samtemplate.load())
        if route.method != "OPTIONS"
    }


def test_the_description_has_exactly_the_declared_routes_guarded_as_declared_with_their_parameters():
    assert openapi.check_openapi(declarations.declared_routes()) == []


def test_the_description_lists_exactly_the_routes_the_template_declares():
    assert set(documented()) == set(template_guards())


def test_the_description_and_the_template_guard_the_same_routes():
    guards = {key: is_guarded(operation) for key, operation in documented().items()}
    assert guards == template_guards()


def test_every_documented_path_has_a_cors_preflight_route_in_the_template():
    preflights = {route.path for route in samtemplate.api_routes(samtemplate.load()) if route.method == "OPTIONS"}
    assert {path for _, path in documented()} == preflights


# Every status a function answers is one its operation documents: each event file, and variants of it

EVENTS = sorted(path.relative_to(ROOT) for path in (ROOT / "events").rglob("*.json"))
API_EVENTS = [path for path in EVENTS if not is_authorizer_event(json.loads((ROOT / path).read_text()))]


def with_header(event: dict, name: str, value: str) -> dict:
    """``event`` with one more request header, where its payload version keeps headers."""
    changed = copy.deepcopy(event)
    if changed.get("version") == "2.0":
        changed["headers"][name.lower()] = value
    else:
        changed["headers"][name] = value
        changed.setdefault("multiValueHeaders", {})[name] = [value]
    return changed


def without_caller(event: dict) -> dict:
    """``event`` as it would arrive had no authorizer run (a route reached without a principal)."""
    changed = copy.deepcopy(event)
    changed["requestContext"].pop("authorizer", None)
    for headers in (changed.get("headers") or {}, changed.get("multiValueHeaders") or {}):
        for name in [name for name in headers if name.lower() == "authorization"]:
            del headers[name]
    return changed


def variants(event: dict, answered_headers: dict) -> dict[str, dict]:
    """The event changed the ways a client may change its request: conditions, no caller, a stale revision."""
    found = {
        "as written": event,
        "without a caller": without_caller(event),
        "with a stale If-Match": with_header(event, "If-Match", '"0"'),
        "with If-None-Match: *": with_header(event, "If-None-Match", "*"),
    }
    if "etag" in answered_headers:
        found["with its own ETag in If-None-Match"] = with_header(event, "If-None-Match", answered_headers["etag"])
    return found


def handler_for(event):
    _, handler_path = function_for(event, samtemplate.load())
    module, _, attribute = handler_path.rpartition(".")
    return getattr(__import__(module, fromlist=[attribute]), attribute)


@pytest.mark.parametrize("path", API_EVENTS, ids=str)
def test_every_status_a_function_answers_to_an_event_is_documented_for_its_operation(path, database):
    event = load_event(ROOT / path)
    method, route_path, _ = event_files.event_route(event)
    responses = documented()[method, route_path]["responses"]
    seed.plant(database)
    _, answered_headers, _ = parsed(handler_for(event)(copy.deepcopy(event), None))
    for name, variant in variants(event, answered_headers).items():
        seed.plant(database)
        status, _, body = parsed(handler_for(variant)(variant, None))
        assert str(status) in responses or "default" in responses, (
            f"{method} {route_path} {name} answered {status}, which openapi.yaml does not document: {body}"
        )


FLAVOURS = {"rest": (), "http": ("--api", "http")}
HTTP_SAMPLE = 4  # the HTTP API flavour runs one example in HTTP_SAMPLE


@pytest.fixture(scope="module", params=sorted(FLAVOURS))
def contract_gateway(request, mongo_uri, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"contract-{request.param}")
    database = f"test_contract_{uuid.uuid4().hex[:8]}"
    server = LocalGateway(
        folder / "gateway.log", *FLAVOURS[request.param], env={"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": database}
    )
    server.flavour = request.param
    server.examples = 0
    yield server
    server.stop()
    with pymongo.MongoClient(mongo_uri) as client:
        client.drop_database(database)


@pytest.fixture(scope="module")
def token() -> str:
    return mint_local_token("contract-tester")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_description_says(case, contract_gateway, token):
    contract_gateway.examples += 1
    if contract_gateway.flavour == "http" and contract_gateway.examples % HTTP_SAMPLE:
        return
    case.call_and_validate(base_url=contract_gateway.url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
