"""The request view: normalization of both payload versions, bodies and malformed events."""

import pytest

from shared import errors
from shared.request import Request
from tests.apigw import http_event, rest_event

LIMIT = 16384


def request(event) -> Request:
    return Request(event, LIMIT)


def test_headers_are_lower_cased():
    assert request(rest_event("GET", "/", headers={"X-Thing": "1"})).headers == {"x-thing": "1"}


def test_a_header_is_read_by_its_lower_case_name_whatever_case_the_client_sent():
    event = rest_event("GET", "/", headers={"If-None-Match": '"r1"', "X-THING": "1"})
    assert (request(event).header("if-none-match"), request(event).header("x-thing")) == ('"r1"', "1")


def test_a_header_the_request_has_not_is_none():
    event = rest_event("GET", "/", headers={"X-Thing": "1"})
    assert (request(event).header("if-match"), request(event).header("thing")) == (None, None)


SPELLINGS = {"Accept": "a", "ACCEPT": "b", "ΑΣ-Tag": "c"}  # one name spelt twice, and a sigma that ends a word


def test_each_header_read_alone_is_what_the_headers_hold():
    for event in (rest_event("GET", "/", headers=SPELLINGS), http_event("GET", "/", headers=SPELLINGS)):
        every = request(event).headers
        # The name lowered as a sigma mid-word would be, and as the final sigma it is.
        names = [*every, "\u03b1\u03c3-tag", "\u03b1\u03c2-tag", "missing"]
        assert {name: request(event).header(name) for name in names} == {name: every.get(name) for name in names}


def test_a_header_named_in_upper_case_is_not_found():
    assert request(rest_event("GET", "/", headers={"X-Thing": "1"})).header("X-Thing") is None


def test_headers_that_are_no_text_are_refused_before_any_header_is_read():
    with pytest.raises(errors.MalformedEvent):
        request(rest_event("GET", "/", headers={"X-Thing": 1}))


def test_rest_multi_value_headers_are_used_when_single_values_are_missing():
    event = rest_event("GET", "/")
    event["headers"] = None
    event["multiValueHeaders"] = {"Accept": ["text/plain", "application/json"]}
    assert request(event).headers == {"accept": "application/json"}


def test_null_headers_mean_no_headers():
    event = rest_event("GET", "/")
    event["headers"] = event["multiValueHeaders"] = None
    assert request(event).headers == {}


def test_rest_multi_value_query_keeps_every_value():
    event = rest_event("GET", "/", query={"tag": ["a", "b"], "limit": "5"})
    assert request(event).query_lists == {"tag": ["a", "b"], "limit": ["5"]}
    assert request(event).query == {"tag": "a", "limit": "5"}


def test_rest_single_value_query_is_used_without_the_multi_value_form():
    event = rest_event("GET", "/")
    event["queryStringParameters"] = {"limit": "5"}
    assert request(event).query_lists == {"limit": ["5"]}


def test_http_api_query_is_parsed_from_the_raw_query_string():
    event = http_event("GET", "/", query={"tag": ["a", "b"], "q": "x y"})
    assert request(event).query_lists == {"tag": ["a", "b"], "q": ["x y"]}


def test_base64_body_is_decoded():
    event = rest_event("PATCH", "/", body={"name": "x"}, base64_encoded=True)
    assert request(event).body == b'{"name": "x"}'


def test_json_body_is_parsed():
    assert request(http_event("PATCH", "/", body={"name": "x"})).json() == {"name": "x"}


def test_json_with_charset_parameter_is_accepted():
    event = rest_event("PATCH", "/", body="{}", headers={"Content-Type": "application/json; charset=utf-8"})
    assert request(event).json() == {}


def test_merge_patch_content_type_is_accepted():
    event = rest_event("PATCH", "/", body="{}", headers={"Content-Type": "application/merge-patch+json"})
    assert request(event).json() == {}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_non_json_content_type_is_415(content_type):
    event = rest_event("PATCH", "/", body="{}", headers={"Content-Type": content_type})
    with pytest.raises(errors.UnsupportedMediaType):
        request(event).json()


def test_missing_content_type_is_415():
    event = rest_event("PATCH", "/", body="{}")
    event["headers"] = event["multiValueHeaders"] = None
    with pytest.raises(errors.UnsupportedMediaType):
        request(event).json()


def test_body_over_the_limit_is_413():
    event = rest_event("PATCH", "/", body="x" * (LIMIT + 1))
    with pytest.raises(errors.PayloadTooLarge):
        _ = request(event).body


def test_base64_body_over_the_limit_is_413_before_decoding():
    event = rest_event("PATCH", "/", body=b"x" * (LIMIT * 2), base64_encoded=True)
    with pytest.raises(errors.PayloadTooLarge):
        _ = request(event).body


def test_body_at_the_limit_is_accepted():
    assert len(request(rest_event("PATCH", "/", body="x" * LIMIT)).body) == LIMIT


@pytest.mark.parametrize("raw", ["{", "[1,]", "nul", '{"a": 1} trailing'])
def test_bad_json_is_400(raw):
    with pytest.raises(errors.InvalidJSON):
        request(rest_event("PATCH", "/", body=raw)).json()


def test_empty_json_body_is_400():
    with pytest.raises(errors.InvalidJSON):
        request(rest_event("PATCH", "/", body="")).json()


def test_deeply_nested_json_is_400_not_a_crash():
    with pytest.raises(errors.InvalidJSON):
        request(rest_event("PATCH", "/", body="[" * 5000 + "]" * 5000)).json()


def test_invalid_base64_is_400():
    event = rest_event("PATCH", "/", body="not base64!!")
    event["isBase64Encoded"] = True
    with pytest.raises(errors.MalformedEvent):
        _ = request(event).body


def test_invalid_utf8_in_base64_body_is_400():
    body = b'{"name": "\xff\xfe"}'
    event = rest_event("PATCH", "/", body=body, base64_encoded=True, headers={"Content-Type": "application/json"})
    with pytest.raises(errors.InvalidJSON):
        request(event).json()


def test_lone_surrogate_in_text_body_is_400():
    with pytest.raises(errors.InvalidJSON):
        _ = request(rest_event("PATCH", "/", body='{"name": "\ud800"}')).body


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        "GET /",
        {},
        {"httpMethod": "GET", "path": "/"},
        {"httpMethod": "GET", "path": "/", "requestContext": "nope"},
        {"httpMethod": None, "path": "/", "requestContext": {"requestId": "r"}},
        {"httpMethod": "GET", "path": 7, "requestContext": {"requestId": "r"}},
        {"httpMethod": "GET", "path": "relative", "requestContext": {"requestId": "r"}},
        {"httpMethod": "GET", "path": "/", "requestContext": {"requestId": "r"}, "headers": ["a"]},
        {"httpMethod": "GET", "path": "/", "requestContext": {"requestId": "r"}, "headers": {"a": 1}},
        {"version": "2.0", "rawPath": "/", "requestContext": {"http": None}},
        {"version": "2.0", "requestContext": {"http": {"method": "GET"}}},
    ],
)
def test_malformed_events_are_refused(event):
    with pytest.raises(errors.MalformedEvent):
        request(event)


def test_non_string_body_is_malformed():
    event = rest_event("PATCH", "/")
    event["body"] = {"name": "x"}
    with pytest.raises(errors.MalformedEvent):
        _ = request(event).body


def test_non_string_query_values_are_malformed():
    event = rest_event("GET", "/")
    event["queryStringParameters"] = {"limit": 5}
    event["multiValueQueryStringParameters"] = None
    with pytest.raises(errors.MalformedEvent):
        _ = request(event).query


def test_multi_value_query_that_is_not_a_list_is_malformed():
    event = rest_event("GET", "/")
    event["multiValueQueryStringParameters"] = {"tag": "abc"}
    with pytest.raises(errors.MalformedEvent):
        _ = request(event).query


def test_a_request_built_outside_the_router_reads_its_body_up_to_the_default_limit():
    assert Request(rest_event("POST", "/notes", body={"text": "hi"})).json() == {"text": "hi"}
    with pytest.raises(errors.PayloadTooLarge):
        _ = Request(rest_event("POST", "/notes", body="x" * 16385)).body
