"""Property: whatever a malformed event holds, a function answers with a 2xx-4xx, never a 500 or a raise."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers import health
from tests.apigw import http_event, http_lambda_authorizer, rest_authorizer, rest_event
from tests.fixtures.resources import parcels

# Any text, and text JSON can spell but UTF-8 cannot hold (lone surrogates), beside NUL and U+202E.
TEXT = st.text(max_size=20) | st.text(alphabet=st.sampled_from("a/\ud800\udfff\u202e\x00"), max_size=6)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
EVENT_KEYS = [
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "body",
    "isBase64Encoded",
    "path",
    "httpMethod",
    "rawPath",
    "rawQueryString",
    "requestContext",
]
CONTEXT_KEYS = ["authorizer", "http", "requestId", "stage"]
PARCEL = {"recipient": "Alice", "lines": [{"sku": "SKU-1", "quantity": 2, "price": 9.5}]}
PARCEL_ID = "65f1a0c2e4b0a1b2c3d4e5f7"
CASES = [
    (parcels, "POST", "/parcels"),
    (parcels, "GET", "/parcels"),
    (parcels, "GET", f"/parcels/{PARCEL_ID}"),
    (parcels, "POST", f"/parcels/{PARCEL_ID}/cancel"),
    (health, "GET", "/health"),
]


def valid_event(version: str, method: str, path: str) -> dict:
    if version == "2.0":
        return http_event(method, path, body=PARCEL, authorizer=http_lambda_authorizer())
    return rest_event(method, path, body=PARCEL, authorizer=rest_authorizer())


@pytest.mark.parametrize("handler, method, path", CASES, ids=[f"{m} {p}" for _, m, p in CASES])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    version=st.sampled_from(["1.0", "2.0"]),
    key=st.sampled_from(EVENT_KEYS),
    context_key=st.sampled_from(CONTEXT_KEYS),
    value=JSON,
    in_context=st.booleans(),
)
def test_a_mangled_event_never_gives_a_server_error(
    database, handler, method, path, version, key, context_key, value, in_context
):
    event = valid_event(version, method, path)
    if in_context:
        event["requestContext"][context_key] = value
    else:
        event[key] = value
    result = handler.lambda_handler(event, None)
    assert 200 <= result["statusCode"] < 500, result
