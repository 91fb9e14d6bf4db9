"""``make serve API=http``: the local gateway as an HTTP API, over real HTTP, on the real template and database.

The template is template.yaml plus the fixture resource's ``/parcels`` routes behind the authorizer
(tests/fixtures/gateway_server.py). The JWT authorizer is emulated against a
real identity provider on loopback (discovery document and JWKS, RS256 keys); the Lambda authorizer is
the project's own, answering simple responses for local HS256 tokens.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pymongo
import pytest

from bench.first_request import LoopbackIssuer
from tests.fixtures.gateway_server import LocalGateway, write_resource_template
from tests.tokenkit import rsa_key, sign
from tools import httpapi, samtemplate
from tools.gateway import httpapi as http_model
from tools.gateway import payload2
from tools.gateway.proxy import HttpRequest
from tools.local_token import mint_local_token

AUDIENCE = "bare-api"
FRONTEND = "https://app.example.com"
MAX_LIFETIME = 3600
PARCEL = {"recipient": "Carol", "lines": [{"sku": "SKU-1", "quantity": 2, "price": 9.5}]}


@pytest.fixture(scope="module")
def provider():
    """An OpenID issuer on loopback: discovery document, JWKS (one RS256 key, kid "bench")."""
    with LoopbackIssuer() as issuer:
        yield issuer


@pytest.fixture(scope="module")
def signing_key(provider):
    return provider.key


def _serve(mongo_uri, folder, *arguments: str):
    database = f"test_http_{uuid.uuid4().hex[:8]}"
    server = LocalGateway(
        folder / "gateway.log",
        "--api",
        "http",
        "--template",
        str(write_resource_template(folder / "template.yaml")),
        *arguments,
        env={"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": database},
    )
    return server, database


@pytest.fixture(scope="module")
def jwt_gateway(mongo_uri, tmp_path_factory, provider):
    server, database = _serve(
        mongo_uri,
        tmp_path_factory.mktemp("http-jwt"),
        "--authorizer",
        "jwt",
        "--parameter",
        f"JwtIssuer={provider.url}",
        "--parameter",
        f"JwtAudience={AUDIENCE}",
        "--parameter",
        f"JwtMaxLifetimeSeconds={MAX_LIFETIME}",
        "--parameter",
        f"CorsAllowOrigins={FRONTEND}",
    )
    yield server
    server.stop()
    with pymongo.MongoClient(mongo_uri) as client:
        client.drop_database(database)


@pytest.fixture(scope="module")
def lambda_gateway(mongo_uri, tmp_path_factory):
    server, database = _serve(mongo_uri, tmp_path_factory.mktemp("http-lambda"))
    yield server
    server.stop()
    with pymongo.MongoClient(mongo_uri) as client:
        client.drop_database(database)


def rs256(signing_key, provider, kid: str = "bench", **overrides) -> str:
    now = int(time.time())
    claims = {
        "sub": f"user-{uuid.uuid4().hex[:8]}",
        "iss": provider.url,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
        **overrides,
    }
    return sign({name: value for name, value in claims.items() if value is not None}, signing_key, "RS256", kid)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def send_parcel(gateway, token: str):
    headers = {**bearer(token), "Content-Type": "application/json"}
    return gateway.request("POST", "/parcels", headers, json.dumps(PARCEL).encode())


def test_an_unknown_route_is_404_not_found(jwt_gateway):
    answer = jwt_gateway.request("GET", "/nowhere")
    assert (answer.status, answer.json()) == (404, {"message": "Not Found"})


def test_the_default_stage_has_no_path_prefix(jwt_gateway):
    assert jwt_gateway.request("GET", "/health").status == 200
    assert jwt_gateway.request("GET", "/local/health").status == 404


def test_a_valid_rs256_token_reaches_the_function_as_the_caller_its_sub_names(jwt_gateway, signing_key, provider):
    sent = send_parcel(jwt_gateway, rs256(signing_key, provider, sub="carol"))
    assert sent.status == 201
    mine = jwt_gateway.request("GET", "/parcels", bearer(rs256(signing_key, provider, sub="carol")))
    theirs = jwt_gateway.request("GET", "/parcels", bearer(rs256(signing_key, provider, sub="dave")))
    assert sent.json()["id"] in [parcel["id"] for parcel in mine.json()["items"]]
    assert sent.json()["id"] not in [parcel["id"] for parcel in theirs.json()["items"]]


def test_the_token_may_come_without_the_bearer_prefix(jwt_gateway, signing_key, provider):
    assert jwt_gateway.request("GET", "/parcels", {"Authorization": rs256(signing_key, provider)}).status == 200


def test_client_id_stands_for_a_missing_audience(jwt_gateway, signing_key, provider):
    token = rs256(signing_key, provider, aud=None, client_id=AUDIENCE)
    assert jwt_gateway.request("GET", "/parcels", bearer(token)).status == 200


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"exp": int(time.time()) - 10}, "expired"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "https://other.example.com/"}, "issuer"),
        ({"nbf": int(time.time()) + 3600}, "nbf"),
        ({"iat": int(time.time()) + 3600}, "iat"),
    ],
)
def test_a_refused_claim_is_401_unauthorized_saying_why_in_www_authenticate(
    jwt_gateway, signing_key, provider, overrides, why
):
    answer = jwt_gateway.request("GET", "/parcels", bearer(rs256(signing_key, provider, **overrides)))
    assert (answer.status, answer.json()) == (401, {"message": "Unauthorized"})
    assert why in answer.header("www-authenticate")


def test_no_token_is_401_unauthorized(jwt_gateway):
    answer = jwt_gateway.request("GET", "/parcels")
    assert (answer.status, answer.json()) == (401, {"message": "Unauthorized"})


def test_an_hs256_token_is_refused_the_jwt_authorizer_takes_rsa_only(jwt_gateway):
    answer = jwt_gateway.request("GET", "/parcels", bearer(mint_local_token("alice")))
    assert answer.status == 401 and "RSA" in answer.header("www-authenticate")


def test_a_key_the_issuer_does_not_publish_is_refused(jwt_gateway, provider):
    token = rs256(rsa_key(), provider, kid="bench")
    assert jwt_gateway.request("GET", "/parcels", bearer(token)).status == 401
    assert jwt_gateway.request("GET", "/parcels", bearer(rs256(rsa_key(), provider, kid="key-9"))).status == 401


def test_the_function_refuses_a_lifetime_the_jwt_authorizer_lets_through(jwt_gateway, signing_key, provider):
    now = int(time.time())
    answer = jwt_gateway.request(
        "GET", "/parcels", bearer(rs256(signing_key, provider, iat=now, exp=now + 2 * MAX_LIFETIME))
    )
    assert answer.status == 401
    assert answer.header("Content-Type") == "application/problem+json"
    assert "lives longer" in answer.json()["detail"]


def test_the_function_refuses_a_sub_that_cannot_name_a_user(jwt_gateway, signing_key, provider):
    answer = jwt_gateway.request("GET", "/parcels", bearer(rs256(signing_key, provider, sub="a/b")))
    assert (answer.status, answer.header("Content-Type")) == (401, "application/problem+json")


def test_the_gateway_answers_preflights_from_its_cors_configuration(jwt_gateway):
    answer = jwt_gateway.request("OPTIONS", "/parcels", {"Origin": FRONTEND, "Access-Control-Request-Method": "POST"})
    assert answer.status == 204
    assert answer.header("Access-Control-Allow-Origin") == FRONTEND
    assert "POST" in answer.header("Access-Control-Allow-Methods")
    assert "authorization" in answer.header("Access-Control-Allow-Headers")


def test_a_preflight_from_another_origin_gets_no_cors_headers(jwt_gateway):
    answer = jwt_gateway.request(
        "OPTIONS", "/parcels", {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert answer.status == 204 and answer.header("Access-Control-Allow-Origin") is None


def test_responses_carry_the_gateways_cors_headers_once(jwt_gateway):
    answer = jwt_gateway.request("GET", "/health", {"Origin": FRONTEND})
    assert answer.headers_named("Access-Control-Allow-Origin") == [FRONTEND]
    assert "etag" in answer.header("Access-Control-Expose-Headers")


def test_a_plain_options_request_still_reaches_the_function(jwt_gateway):
    answer = jwt_gateway.request("OPTIONS", "/parcels")
    assert answer.status == 204 and "GET" in answer.header("Allow")


def test_the_lambda_authorizer_allows_a_local_token(lambda_gateway):
    answer = lambda_gateway.request("GET", "/parcels", bearer(mint_local_token("dave")))
    assert (answer.status, answer.header("Content-Type")) == (200, "application/json")


def test_the_lambda_authorizer_refusing_is_403_forbidden(lambda_gateway):
    answer = lambda_gateway.request("GET", "/parcels", bearer("not-a-token"))
    assert (answer.status, answer.json()) == (403, {"message": "Forbidden"})


def test_without_the_identity_source_the_lambda_authorizer_is_not_called_401(lambda_gateway):
    answer = lambda_gateway.request("GET", "/parcels")
    assert (answer.status, answer.json()) == (401, {"message": "Unauthorized"})


def test_the_lambda_authorizers_answer_is_cached_per_token_across_routes(lambda_gateway):
    token = mint_local_token(f"user-{uuid.uuid4().hex[:8]}")
    sent = send_parcel(lambda_gateway, token)
    assert sent.status == 201
    assert lambda_gateway.request("GET", f"/parcels/{sent.json()['id']}", bearer(token)).status == 200
    lines = [line for line in lambda_gateway.log().splitlines() if " authorizer=" in line][-2:]
    assert "authorizer=miss" in lines[0] and "authorizer=hit" in lines[1]


V2_EVENTS = sorted((Path(__file__).resolve().parent.parent / "events" / "v2").glob("*.json"))


@pytest.mark.parametrize("path", V2_EVENTS, ids=lambda path: path.name)
def test_the_emulated_event_has_the_shape_of_each_events_v2_fixture(path):
    fixture = json.loads(path.read_text())
    served = http_model.load(httpapi.derive(samtemplate.load(), httpapi.LAMBDA))
    method, raw_path = fixture["requestContext"]["http"]["method"], fixture["rawPath"]
    route, params = served.find(method, raw_path)
    query = f"?{fixture['rawQueryString']}" if fixture.get("rawQueryString") else ""
    headers = [(name, value) for name, value in fixture["headers"].items()]
    request = HttpRequest(method, raw_path + query, headers, (fixture.get("body") or "").encode(), "203.0.113.10")
    authorizer = fixture["requestContext"].get("authorizer")
    event = payload2.build_event(request, served, route, params, "id", authorizer)
    assert event["routeKey"] == fixture["routeKey"]
    assert set(event) == set(fixture)
    assert set(event["requestContext"]) == set(fixture["requestContext"])
    assert set(event["requestContext"]["http"]) == set(fixture["requestContext"]["http"])
    assert event.get("pathParameters") == fixture.get("pathParameters")


# The path is percent-decoded before routing, and the function sees it decoded, as an HTTP API does


def test_an_encoded_path_reaches_the_parcel_it_names(lambda_gateway):
    token = mint_local_token("dave")
    parcel_id = send_parcel(lambda_gateway, token).json()["id"]
    encoded = "".join(f"%{ord(letter):02X}" for letter in parcel_id)
    answer = lambda_gateway.request("GET", f"/parcels/{encoded}", bearer(token))
    assert (answer.status, answer.json()["id"]) == (200, parcel_id)


def test_an_encoded_letter_in_a_literal_segment_still_matches_its_route(lambda_gateway):
    answer = lambda_gateway.request("GET", "/p%61rcels", bearer(mint_local_token("dave")))
    assert (answer.status, answer.header("Content-Type")) == (200, "application/json")


def test_an_encoded_slash_separates_segments_so_no_route_matches(lambda_gateway):
    answer = lambda_gateway.request("GET", "/parcels/a%2Fb", bearer(mint_local_token("dave")))
    assert (answer.status, answer.json()) == (404, {"message": "Not Found"})


def test_the_event_carries_the_path_decoded_and_the_query_string_encoded(tmp_path):
    template = samtemplate.load(write_resource_template(tmp_path / "template.yaml"))
    served = http_model.load(httpapi.derive(template, httpapi.LAMBDA))
    request = payload2.decoded_path(HttpRequest("GET", "/parcels/al%20ice?status=a%2Bb", [], b"", "203.0.113.10"))
    route, params = served.find(request.method, request.path)
    event = payload2.build_event(request, served, route, params, "id")
    assert (event["rawPath"], event["requestContext"]["http"]["path"]) == ("/parcels/al ice", "/parcels/al ice")
    assert (event["rawQueryString"], event["pathParameters"]) == ("status=a%2Bb", {"parcel_id": "al ice"})
