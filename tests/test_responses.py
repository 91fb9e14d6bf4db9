"""Responses: JSON, empty, created, and the proxy result shape."""

import orjson

from shared.responses import created, empty_response, json_response, to_proxy_result


def test_created_is_201_with_location_and_a_json_body():
    response = created({"id": "n1"}, "/notes/n1")
    assert (response.status, response.headers, orjson.loads(response.body)) == (
        201, {"content-type": "application/json", "location": "/notes/n1"}, {"id": "n1"})


def test_created_keeps_extra_headers():
    assert created({}, "/notes/n1", headers={"etag": '"r1"'}).headers["etag"] == '"r1"'


def test_json_response_defaults_to_200():
    assert json_response({"a": 1}).status == 200


def test_an_empty_response_has_no_body_in_its_proxy_result():
    assert to_proxy_result(empty_response())["body"] == ""
