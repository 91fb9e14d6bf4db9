"""The router: matching, 404/405, payload versions, encoded parameters, and the last line of defence."""

import json

import pytest

from shared import errors
from shared.responses import json_response
from shared.router import Router, compile_template
from tests.apigw import http_event, parsed, rest_event

router = Router("example")


@router.get("/things/{thing_id}")
def read_thing(request):
    return json_response({"id": request.path_params["thing_id"], "route": request.route})


@router.delete("/things/{thing_id}")
def delete_thing(request):
    raise errors.Conflict("cannot delete this one")


@router.get("/boom")
def boom(request):
    raise RuntimeError("secret connection string mongodb://user:pw@host")


def test_template_parameters_become_named_groups():
    assert compile_template("/users/{user_id}").match("/users/u-1").groupdict() == {"user_id": "u-1"}


def test_template_parameter_does_not_cross_slashes():
    assert compile_template("/users/{user_id}").match("/users/a/b") is None


def test_matching_route_receives_path_parameters():
    status, _, body = parsed(router.dispatch(rest_event("GET", "/things/t1"), None))
    assert (status, body) == (200, {"id": "t1", "route": "/things/{thing_id}"})


def test_trailing_slash_matches_the_same_route():
    status, _, body = parsed(router.dispatch(rest_event("GET", "/things/t1/"), None))
    assert (status, body["id"]) == (200, "t1")


def test_unknown_path_is_404_problem():
    status, headers, body = parsed(router.dispatch(rest_event("GET", "/nowhere"), None))
    assert status == 404
    assert headers["content-type"] == "application/problem+json"
    assert body["status"] == 404 and body["instance"] == "/nowhere" and body["request_id"] == "req-1"


def test_known_path_with_other_method_is_405_with_allow():
    status, headers, body = parsed(router.dispatch(rest_event("PUT", "/things/t1"), None))
    assert status == 405
    assert headers["allow"] == "DELETE, GET, OPTIONS"
    assert body["title"] == "Method Not Allowed"


def test_head_is_not_served_because_the_template_routes_none():
    status, headers, _ = parsed(router.dispatch(rest_event("HEAD", "/things/t1"), None))
    assert (status, headers["allow"]) == (405, "DELETE, GET, OPTIONS")


def test_options_lists_the_methods_without_head():
    status, headers, _ = parsed(router.dispatch(rest_event("OPTIONS", "/things/t1"), None))
    assert (status, headers["allow"]) == (204, "DELETE, GET, OPTIONS")


def test_a_rest_api_path_parameter_is_percent_decoded():
    status, _, body = parsed(router.dispatch(rest_event("GET", "/things/caf%C3%A9%20au%20lait"), None))
    assert (status, body["id"]) == (200, "café au lait")


def test_an_encoded_slash_stays_inside_one_rest_api_parameter():
    status, _, body = parsed(router.dispatch(rest_event("GET", "/things/a%2Fb"), None))
    assert (status, body["id"]) == (200, "a/b")


def test_an_http_api_path_parameter_is_already_decoded_and_not_decoded_twice():
    status, _, body = parsed(router.dispatch(http_event("GET", "/things/100%25 sure"), None))
    assert (status, body["id"]) == (200, "100%25 sure")


def test_http_error_becomes_its_problem():
    status, _, body = parsed(router.dispatch(rest_event("DELETE", "/things/t1"), None))
    assert status == 409
    assert body["detail"] == "cannot delete this one"
    assert body["type"].endswith("/conflict")


def test_unexpected_exception_is_500_problem_without_internals(capsys):
    status, _, body = parsed(router.dispatch(rest_event("GET", "/boom"), None))
    assert status == 500
    assert "mongodb" not in str(body) and "RuntimeError" not in str(body)
    assert body["detail"] == "the server could not answer this request"


def test_unexpected_exception_is_logged_with_its_traceback_redacted(capsys):
    router.dispatch(rest_event("GET", "/boom"), None)
    log = capsys.readouterr().out
    assert "RuntimeError" in log
    assert "user:pw" not in log


def test_http_api_payload_is_routed_the_same_way():
    status, _, body = parsed(router.dispatch(http_event("GET", "/things/t2"), None))
    assert (status, body["id"]) == (200, "t2")


def test_http_api_named_stage_is_stripped_from_the_raw_path():
    status, _, body = parsed(router.dispatch(http_event("GET", "/things/t3", stage="prod"), None))
    assert (status, body["id"]) == (200, "t3")


def test_proxy_result_has_the_shape_api_gateway_expects():
    result = router.dispatch(http_event("GET", "/things/t1"), None)
    assert set(result) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert isinstance(result["body"], str) and result["isBase64Encoded"] is False


def test_request_id_falls_back_to_the_lambda_context():
    class Context:
        aws_request_id = "lambda-req-9"

    status, _, body = parsed(router.dispatch({"nonsense": True}, Context()))
    assert status == 400
    assert body["request_id"] == "lambda-req-9"


@pytest.mark.parametrize("setting", [{"MONGODB_TIMEOUT_MS": "5"}, {"LOG_LEVEL": "LOUD"}, {"CORS_ALLOW_ORIGINS": "x"}])
def test_a_bad_setting_is_a_500_problem_with_the_request_id_and_one_line_naming_it(environment, capsys, setting):
    environment(**setting)
    status, headers, body = parsed(router.dispatch(rest_event("GET", "/things/t1"), None))
    assert (status, headers["content-type"]) == (500, "application/problem+json")
    assert (body["request_id"], body["instance"], body["detail"]) == ("req-1", "/things/t1",
                                                                     "the server could not answer this request")
    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert record["error"] == "ConfigError" and next(iter(setting)) in record["detail"]
    assert "traceback" not in record and record["status"] == 500
    assert next(iter(setting)) not in str(body)


def test_a_bad_setting_never_raises_out_of_a_cors_response(environment):
    environment(CORS_ALLOW_ORIGINS="https://app.example.com", MAX_BODY_BYTES="none")
    event = rest_event("OPTIONS", "/things/t1", headers={"Origin": "https://app.example.com",
                                                        "Access-Control-Request-Method": "GET"})
    assert parsed(router.dispatch(event, None))[0] == 500
