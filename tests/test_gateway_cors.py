"""The local gateway's own answers carry CORS headers as the template's GatewayResponses make API Gateway's do."""

from __future__ import annotations

import pytest

from tests.fixtures.gateway_server import write_test_template
from tools import samtemplate
from tools.gateway import api
from tools.gateway.console import Console
from tools.gateway.proxy import HttpRequest
from tools.gateway.server import Gateway

FRONTEND = "http://localhost:5173"


@pytest.fixture
def gateway(monkeypatch, tmp_path):
    """``gateway(origins)``: the gateway of the test template (template.yaml with the fixture resource's routes
    behind the project's authorizer), for answers it makes itself (no function runs)."""
    template = samtemplate.load(write_test_template(tmp_path / "template.yaml"))

    def make(origins: str) -> Gateway:
        monkeypatch.setenv("CORS_ALLOW_ORIGINS", origins)
        return Gateway(api.load(template), pools={}, console=Console(lambda line: None))

    return make


def answer(gateway: Gateway, path: str, headers: list[tuple[str, str]]) -> dict[str, str]:
    response = gateway.handle(HttpRequest("GET", path, headers, b"", "127.0.0.1"))
    return {"status": response.status, **{name.lower(): value for name, value in response.headers}}


@pytest.mark.parametrize("path, status", [("/parcels", 401), ("/no-such-path", 403)], ids=["no-token", "unknown-path"])
def test_a_gateway_answer_echoes_the_origin_when_cors_is_on(gateway, path, status):
    got = answer(gateway(FRONTEND), path, [("Origin", FRONTEND)])
    assert (got["status"], got["access-control-allow-origin"], got["vary"]) == (status, FRONTEND, "Origin")


def test_a_gateway_answer_has_no_cors_headers_when_cors_is_off(gateway):
    got = answer(gateway(""), "/parcels", [("Origin", FRONTEND)])
    assert got["status"] == 401 and "access-control-allow-origin" not in got


def test_a_gateway_answer_to_a_request_without_origin_has_no_cors_headers(gateway):
    got = answer(gateway(FRONTEND), "/parcels", [])
    assert got["status"] == 401 and "access-control-allow-origin" not in got
