"""CORS: preflight from the allowlist only, and headers on actual responses."""

import pytest

from handlers import health
from tests.apigw import parsed, rest_authorizer, rest_event
from tests.fixtures.resources import parcels

APP = "https://app.example.com"


def preflight(origin, method="POST", path="/parcels", handler=parcels):
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    return parsed(handler.lambda_handler(rest_event("OPTIONS", path, headers=headers), None))


@pytest.fixture
def allow_app(environment):
    environment(CORS_ALLOW_ORIGINS=APP)


def test_preflight_from_an_allowed_origin_is_204_with_cors_headers(allow_app):
    status, headers, body = preflight(APP)
    assert (status, body) == (204, None)
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-allow-methods"] == "GET, OPTIONS, POST"
    assert "authorization" in headers["access-control-allow-headers"]
    assert headers["vary"] == "origin"
    assert "access-control-allow-credentials" not in headers


def test_preflight_needs_no_principal(allow_app):
    assert preflight(APP)[0] == 204


def test_preflight_from_another_origin_is_403_without_cors_headers(allow_app):
    status, headers, problem = preflight("https://evil.example.com")
    assert (status, problem["status"]) == (403, 403)
    assert "access-control-allow-origin" not in headers


def test_preflight_for_a_method_the_path_lacks_is_403(allow_app):
    assert preflight(APP, method="PUT")[0] == 403


def test_preflight_for_head_is_403_because_the_template_routes_no_head(allow_app):
    assert preflight(APP, method="HEAD")[0] == 403


def test_preflight_on_an_unknown_path_is_404(allow_app):
    assert preflight(APP, path="/nowhere")[0] == 404


def test_preflight_without_configured_origins_is_403(environment):
    environment(CORS_ALLOW_ORIGINS="")
    assert preflight(APP)[0] == 403


def test_plain_options_lists_the_allowed_methods():
    status, headers, _ = parsed(health.lambda_handler(rest_event("OPTIONS", "/health"), None))
    assert (status, headers["allow"]) == (204, "GET, OPTIONS")


def test_credentials_are_allowed_only_for_listed_origins(environment):
    environment(CORS_ALLOW_ORIGINS=APP, CORS_ALLOW_CREDENTIALS="true")
    _, headers, _ = preflight(APP)
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["access-control-allow-origin"] == APP


def test_wildcard_origin_answers_star(environment):
    environment(CORS_ALLOW_ORIGINS="*")
    assert preflight("https://anyone.example")[1]["access-control-allow-origin"] == "*"


def test_actual_response_to_an_allowed_origin_carries_cors_headers(allow_app, database):
    event = rest_event("GET", "/parcels", headers={"Origin": APP}, authorizer=rest_authorizer())
    status, headers, _ = parsed(parcels.lambda_handler(event, None))
    assert status == 200
    assert headers["access-control-allow-origin"] == APP
    assert "etag" in headers["access-control-expose-headers"]


def test_error_response_to_an_allowed_origin_carries_cors_headers(allow_app):
    event = rest_event("GET", "/parcels", headers={"Origin": APP})
    status, headers, _ = parsed(parcels.lambda_handler(event, None))
    assert status == 401 and headers["access-control-allow-origin"] == APP


def test_actual_response_to_another_origin_has_no_cors_headers(allow_app):
    event = rest_event("GET", "/health", headers={"Origin": "https://evil.example.com"})
    _, headers, _ = parsed(health.lambda_handler(event, None))
    assert "access-control-allow-origin" not in headers and headers["vary"] == "origin"
