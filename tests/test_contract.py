"""openapi.yaml: consistent with the routes the routers declare and the template, and honoured by the API over HTTP.

The contract test runs Schemathesis (property-based, on Hypothesis) against a
local gateway serving template.yaml, with a valid token, once as a REST API and
once as the HTTP API derived from it (``make serve API=http``, its Lambda
authorizer: local tokens are HS256): no answer may be a 5xx, and every answer
must match the description (status, content type, headers, body).
``CONTRACT_EXAMPLES`` sets how many examples per operation (``make fuzz`` runs
many more); the HTTP API runs a quarter of them.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pymongo
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings

from tests.fixtures.gateway_server import LocalGateway
from tools import samtemplate
from tools.checks import declarations, openapi
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
    return {(route.method, route.path): route.authorized for route in samtemplate.api_routes(samtemplate.load())
            if route.method != "OPTIONS"}


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


FLAVOURS = {"rest": (), "http": ("--api", "http")}
HTTP_SAMPLE = 4  # the HTTP API flavour runs one example in HTTP_SAMPLE


@pytest.fixture(scope="module", params=sorted(FLAVOURS))
def contract_gateway(request, mongo_uri, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"contract-{request.param}")
    database = f"test_contract_{uuid.uuid4().hex[:8]}"
    server = LocalGateway(folder / "gateway.log", *FLAVOURS[request.param],
                          env={"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": database})
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
    case.call_and_validate(base_url=contract_gateway.url, headers={"Authorization": f"Bearer {token}"},
                           checks=CHECKS)
