"""Responses: JSON, empty, created, and the proxy result shape."""

import orjson

from shared import errors
from shared.responses import (
    created,
    empty_response,
    json_response,
    problem_response,
    response_text,
    to_proxy_result,
)


def test_created_is_201_with_location_and_a_json_body():
    response = created({"id": "n1"}, "/notes/n1")
    assert (response.status, response.headers, orjson.loads(response.body)) == (
        201,
        {"content-type": "application/json", "location": "/notes/n1"},
        {"id": "n1"},
    )


def test_created_keeps_extra_headers():
    assert created({}, "/notes/n1", headers={"etag": '"r1"'}).headers["etag"] == '"r1"'


def test_json_response_defaults_to_200():
    assert json_response({"a": 1}).status == 200


def test_an_empty_response_has_no_body_in_its_proxy_result():
    assert to_proxy_result(empty_response())["body"] == ""


# Problem documents: bounded and always serializable


def test_a_problem_keeps_the_first_20_errors_and_counts_the_rest():
    problems = [{"field": f"k{index}", "message": "unknown field"} for index in range(5000)]
    response = problem_response(errors.ValidationFailed(problems), "/me", "r1")
    document = orjson.loads(response.body)
    assert (len(document["errors"]), document["errors_omitted"]) == (20, 4980)
    assert len(response.body) < 4096


def test_a_problem_detail_and_instance_are_cut_to_a_fixed_length():
    response = problem_response(errors.NotFound("x" * 100_000), "/" + "y" * 100_000, "r" * 100_000)
    document = orjson.loads(response.body)
    assert len(document["detail"]) == 1000 and len(document["instance"]) == len(document["request_id"]) == 500
    assert len(response.body) < 4096


def test_lone_surrogates_in_a_problem_become_replacement_characters():
    response = problem_response(
        errors.Forbidden("origin https://\ud800 is not allowed", origin="\udfff"), "/health/\ud800", "\ud800"
    )
    document = orjson.loads(response.body)
    assert (document["detail"], document["instance"], document["origin"]) == (
        "origin https://\ufffd is not allowed",
        "/health/\ufffd",
        "\ufffd",
    )


def test_an_extension_orjson_cannot_write_leaves_the_problem_standing():
    response = problem_response(errors.Conflict("taken", huge=10**30, thing=object()), "/x", "r1")
    document = orjson.loads(response.body)
    assert document["status"] == 409 and document["huge"] == str(10**30)


def test_response_text_leaves_plain_text_alone():
    assert response_text("/users/zoë") == "/users/zoë"
