"""The local API Gateway, over real HTTP: a gateway process serving template.yaml plus test functions.

The project's authorizer runs on real tokens (counted by a thin wrapper) in front of the fixture
resource (tests/fixtures/resources/parcels.py); a second, REQUEST authorizer returns the policy a test
asks for in ``X-Policy``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid

import pymongo
import pytest

from tests.fixtures.gateway_server import LocalGateway, write_test_template
from tests.tokenkit import claims, sign
from tools import loopback
from tools.gateway import api, policy
from tools.gateway.authorizers import PolicyCache
from tools.gateway.proxy import MalformedResult, read_result
from tools.local_token import mint_local_token

FRONTEND = "http://localhost:5173"
PARCEL = {"recipient": "Alice", "lines": [{"sku": "SKU-1", "quantity": 2, "price": 9.5}]}


@pytest.fixture(scope="module")
def gateway(mongo_uri, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gateway")
    database = f"test_gateway_{uuid.uuid4().hex[:8]}"
    env = {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": database,
        "CORS_ALLOW_ORIGINS": FRONTEND,
        "GATEWAY_AUTHORIZER_COUNT": str(folder / "authorizer-calls.txt"),
    }
    server = LocalGateway(
        folder / "gateway.log", "--template", str(write_test_template(folder / "template.yaml")), env=env
    )
    server.calls_file = folder / "authorizer-calls.txt"
    server.database = database
    yield server
    server.stop()
    with pymongo.MongoClient(mongo_uri) as client:
        client.drop_database(database)


def authorizer_calls(gateway, token: str) -> int:
    if not gateway.calls_file.exists():
        return 0
    return sum(line.endswith(token[-16:]) for line in gateway.calls_file.read_text().splitlines())


def fresh_token() -> str:
    return mint_local_token(f"user-{uuid.uuid4().hex[:10]}")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def chosen(choice: str) -> dict[str, str]:
    return {"X-Policy": f"{choice}#{uuid.uuid4().hex}"}


def send_parcel(gateway, token: str, parcel: dict = PARCEL):
    headers = {**bearer(token), "Content-Type": "application/json"}
    return gateway.request("POST", "/parcels", headers, json.dumps(parcel).encode())


def test_a_request_without_a_token_gets_401_without_calling_the_authorizer(gateway):
    before = gateway.calls_file.read_text() if gateway.calls_file.exists() else ""
    answer = gateway.request("GET", "/parcels")
    assert (answer.status, answer.json()) == (401, {"message": "Unauthorized"})
    assert answer.header("x-amzn-ErrorType") == "UnauthorizedException"
    assert (gateway.calls_file.read_text() if gateway.calls_file.exists() else "") == before


def test_a_bad_token_gets_401(gateway):
    answer = gateway.request("GET", "/parcels", bearer("not-a-token-at-all"))
    assert (answer.status, answer.json()) == (401, {"message": "Unauthorized"})
    assert authorizer_calls(gateway, "not-a-token-at-all") == 1


def test_a_good_token_reaches_one_route_and_then_another_from_the_authorizer_cache(gateway):
    token = fresh_token()
    sent = send_parcel(gateway, token)
    assert sent.status == 201
    read = gateway.request("GET", f"/parcels/{sent.json()['id']}", bearer(token))
    assert (read.status, read.json()["id"]) == (200, sent.json()["id"])
    assert authorizer_calls(gateway, token) == 1


def test_a_colon_in_the_path_is_authorized_like_any_other_path(gateway):
    sub = f"f:ldap:{uuid.uuid4().hex[:10]}"  # a federated subject, as Keycloak names it
    token = mint_local_token(sub)
    answer = gateway.request("GET", f"/parcels/{sub}", bearer(token))
    # The authorizer allowed it: the function answered, refusing an id that is not one.
    assert (answer.status, answer.header("content-type")) == (400, "application/problem+json")
    assert authorizer_calls(gateway, token) == 1


def test_a_cached_policy_for_one_route_gives_403_on_another_route(gateway):
    identity = chosen("this-route")
    assert gateway.request("GET", "/policy/a", identity).status == 200
    answer = gateway.request("GET", "/policy/b/1", identity)
    assert (answer.status, answer.json()) == (403, {"message": "User is not authorized to access this resource"})
    assert answer.header("x-amzn-ErrorType") == "AccessDeniedException"


def test_the_same_policy_asked_for_the_other_route_first_allows_that_route(gateway):
    identity = chosen("this-route")
    assert gateway.request("GET", "/policy/b/1", identity).status == 200
    assert gateway.request("GET", "/policy/a", identity).status == 403


def test_an_explicit_deny_gives_403(gateway):
    answer = gateway.request("GET", "/policy/a", chosen("deny"))
    message = "User is not authorized to access this resource with an explicit deny"
    assert (answer.status, answer.json()) == (403, {"message": message})


def test_an_explicit_deny_wins_over_an_allow(gateway):
    identity = chosen("all-but-b")
    assert gateway.request("GET", "/policy/a", identity).status == 200
    assert gateway.request("GET", "/policy/b/1", identity).status == 403


def test_an_authorizer_raising_unauthorized_gives_401(gateway):
    assert gateway.request("GET", "/policy/a", chosen("unauthorized")).status == 401


def test_an_authorizer_answer_without_a_policy_gives_500(gateway):
    answer = gateway.request("GET", "/policy/a", chosen("broken"))
    assert (answer.status, answer.json()) == (500, {"message": None})
    assert answer.header("x-amzn-ErrorType") == "AuthorizerConfigurationException"


def test_the_integration_sees_the_authorizer_context_as_strings(gateway):
    event = gateway.request("GET", "/policy/a", chosen("all-but-b")).json()["event"]
    context = event["requestContext"]["authorizer"]
    assert {key: context[key] for key in ("principalId", "team", "level", "admin")} == {
        "principalId": "tester",
        "team": "gateway",
        "level": "3",
        "admin": "true",
    }
    assert isinstance(context["integrationLatency"], int)


def test_an_unknown_route_gets_missing_authentication_token(gateway):
    for method, path in (("GET", "/nowhere"), ("POST", "/health"), ("GET", "/parcels/a/b")):
        answer = gateway.request(method, path)
        assert (answer.status, answer.json()) == (403, {"message": "Missing Authentication Token"}), (method, path)


def test_a_cors_preflight_is_answered_without_a_token(gateway):
    headers = {
        "Origin": FRONTEND,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    answer = gateway.request("OPTIONS", "/parcels", headers)
    assert answer.status == 204
    assert answer.header("access-control-allow-origin") == FRONTEND
    assert "POST" in answer.header("access-control-allow-methods")


def test_a_json_body_round_trips(gateway):
    token = fresh_token()
    parcel = {"recipient": "Aime les lapins 🐇 et le thé", "lines": [{"sku": "SKU-42", "quantity": 3, "price": 0.5}]}
    sent = send_parcel(gateway, token, parcel)
    assert sent.status == 201
    read = gateway.request("GET", sent.header("location"), bearer(token)).json()
    assert {key: read[key] for key in parcel} == parcel


def test_a_binary_body_round_trips(gateway):
    payload = bytes(range(256)) * 4
    answer = gateway.request("POST", "/echo", {"Content-Type": "image/png"}, payload)
    assert (answer.status, answer.header("content-type"), answer.body) == (200, "image/png", payload)


def test_a_binary_body_reaches_the_function_base64_encoded(gateway):
    payload = b"\x89PNG\r\n\x1a\n\x00\xff"
    answer = gateway.request("POST", "/echo/event", {"Content-Type": "application/octet-stream"}, payload)
    event = answer.json()["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_multi_value_response_headers_all_reach_the_client(gateway):
    answer = gateway.request("POST", "/echo", {"Content-Type": "text/plain"}, b"hello")
    assert (answer.body, answer.headers_named("X-Echo")) == (b"hello", ["one", "two"])


def test_the_event_has_both_forms_of_headers_and_query_parameters(gateway):
    headers = [("X-Multi", "1"), ("X-Multi", "2"), ("Content-Type", "application/json")]
    event = gateway.request("POST", "/echo/event?tag=a&tag=b&q=caf%C3%A9&Q=x", headers, b"{}").json()["event"]
    assert event["headers"]["X-Multi"] == "2"
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["queryStringParameters"] == {"tag": "b", "q": "café", "Q": "x"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "q": ["café"], "Q": ["x"]}
    assert (event["body"], event["isBase64Encoded"]) == ("{}", False)


def test_the_event_carries_the_stage_resource_and_caller(gateway):
    body = gateway.request("POST", "/echo/event", {"User-Agent": "tests"}, b"").json()["event"]
    context = body["requestContext"]
    assert (body["resource"], body["path"], body["httpMethod"]) == ("/echo/event", "/echo/event", "POST")
    assert (context["stage"], context["path"], context["resourcePath"]) == ("local", "/local/echo/event", "/echo/event")
    assert (context["identity"]["sourceIp"], context["identity"]["userAgent"]) == ("127.0.0.1", "tests")
    assert context["requestId"] and body["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert "authorizer" not in context and body["body"] is None


def test_path_parameters_are_decoded(gateway):
    event = gateway.request("GET", "/policy/b/item%201", chosen("this-route")).json()["event"]
    assert (event["pathParameters"], event["resource"]) == ({"item": "item 1"}, "/policy/b/{item}")


def test_a_function_timeout_gives_504_and_its_worker_is_replaced(gateway):
    before = gateway.request("GET", "/misbehave/ok").json()["pid"]
    answer = gateway.request("GET", "/misbehave/sleep?seconds=5")
    assert (answer.status, answer.json()) == (504, {"message": "Endpoint request timed out"})
    after = gateway.request("GET", "/misbehave/ok")
    assert after.status == 200 and after.json()["pid"] != before


def test_a_worker_crash_gives_502_and_the_next_request_succeeds(gateway):
    before = gateway.request("GET", "/misbehave/ok").json()["pid"]
    answer = gateway.request("GET", "/misbehave/exit")
    assert (answer.status, answer.json()) == (502, {"message": "Internal server error"})
    after = gateway.request("GET", "/misbehave/ok")
    assert after.status == 200 and after.json()["pid"] != before


def test_a_handler_exception_gives_502_and_the_worker_stays_warm(gateway):
    before = gateway.request("GET", "/misbehave/ok").json()["pid"]
    assert gateway.request("GET", "/misbehave/raise").status == 502
    assert gateway.request("GET", "/misbehave/ok").json()["pid"] == before


def test_a_malformed_function_response_gives_502(gateway):
    answer = gateway.request("GET", "/misbehave/malformed")
    assert (answer.status, answer.json()) == (502, {"message": "Internal server error"})


def test_one_worker_serves_one_request_at_a_time(gateway):
    answers = []

    def call():
        answers.append(gateway.request("GET", "/misbehave/sleep?seconds=0.3").json()["pid"])

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 2 and answers[0] == answers[1]


def test_each_request_logs_one_line_with_method_path_status_latency_and_cache(gateway):
    token = fresh_token()
    send_parcel(gateway, token)
    gateway.request("GET", "/parcels?status=open", bearer(token))
    lines = [line for line in gateway.log().splitlines() if " GET /parcels 200 " in line]
    assert len(lines) == 1
    assert re.search(
        r" GET /parcels 200 \d+\.\d ms authorizer=hit FixtureParcelsFunction \((cold start|warm)", lines[0]
    )


def test_a_workers_first_request_is_logged_as_its_cold_start(gateway):
    token = fresh_token()
    for _ in range(2):
        send_parcel(gateway, token)
    lines = [line for line in gateway.log().splitlines() if "FixtureParcelsFunction (" in line]
    assert "FixtureParcelsFunction (cold start, init " in lines[0]
    assert all("FixtureParcelsFunction (warm" in line for line in lines[1:]) and len(lines) >= 2


def test_the_console_starts_with_the_database_and_the_authorizer_cache_ttl(gateway, mongo_uri):
    lines = [line.partition(" ")[2] for line in gateway.log().splitlines()]
    assert f"database: {mongo_uri} {gateway.database} (MONGODB_URI)" in lines
    assert (
        "JwtAuthorizer answers are cached 300 s per token: as on API Gateway, a token keeps working for up "
        "to 300 s after it expires"
    ) in lines


def test_by_default_the_console_shows_no_json_log_lines(gateway):
    send_parcel(gateway, fresh_token())
    assert not [line for line in gateway.log().splitlines() if '"message":"request"' in line]


def test_a_refused_token_is_logged_with_the_reason(gateway):
    expired = sign(claims(sub=f"user-{uuid.uuid4().hex[:8]}", iat=1, exp=2))
    assert gateway.request("GET", "/parcels", bearer(expired)).status == 401
    [line] = [line for line in gateway.log().splitlines() if "refused: the token has expired" in line]
    assert line.endswith("JwtAuthorizer refused")


@pytest.fixture(scope="module")
def misconfigured(mongo_uri, tmp_path_factory):
    folder = tmp_path_factory.mktemp("misconfigured")
    env = {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": "unused",
        "MONGODB_TIMEOUT_MS": "5",
        "GATEWAY_AUTHORIZER_COUNT": str(folder / "authorizer-calls.txt"),
    }
    template = write_test_template(folder / "template.yaml")
    server = LocalGateway(folder / "gateway.log", "--logs", "json", "--template", str(template), env=env)
    yield server
    server.stop()


def test_a_bad_setting_gives_the_client_a_500_problem_with_the_request_id(misconfigured):
    answer = misconfigured.request("GET", "/parcels", bearer(fresh_token()))
    problem = answer.json()
    assert (answer.status, answer.header("content-type")) == (500, "application/problem+json")
    assert problem["request_id"] == answer.header("x-amzn-RequestId") and problem["instance"] == "/parcels"


def test_a_bad_setting_is_named_on_the_request_line_and_in_the_json_log(misconfigured):
    misconfigured.request("GET", "/health")
    lines = misconfigured.log().splitlines()
    [line] = [line for line in lines if " GET /health 500 " in line]
    assert line.endswith("; ConfigError: MONGODB_TIMEOUT_MS must be between 100 and 60000, got 5)")
    assert any("[HealthFunction] {" in line and '"level":"ERROR","message":"request"' in line for line in lines)


@pytest.fixture(scope="module")
def database_down(tmp_path_factory):
    folder = tmp_path_factory.mktemp("database-down")
    env = {"MONGODB_URI": f"mongodb://127.0.0.1:{loopback.free_port()}/", "MONGODB_TIMEOUT_MS": "200"}
    server = LocalGateway(folder / "gateway.log", env=env)
    yield server
    server.stop()


def test_a_function_warning_shows_in_human_form(database_down):
    assert database_down.request("GET", "/health?deep=true").status == 503
    lines = database_down.log().splitlines()
    assert any(
        "[HealthFunction] WARNING database unavailable: error=ServerSelectionTimeoutError" in line for line in lines
    )
    assert not [line for line in lines if line.rstrip().endswith("}")]


# The parts, without a server.

ARN = "arn:aws:execute-api:us-east-1:123456789012:localapi01/local"


def policy_of(*statements: tuple[str, str]) -> policy.AuthorizerAnswer:
    raw = [{"Effect": effect, "Action": "execute-api:Invoke", "Resource": resource} for effect, resource in statements]
    return policy.read_answer({"principalId": "p", "policyDocument": {"Version": "2012-10-17", "Statement": raw}})


def test_a_policy_wildcard_covers_every_method_and_path_of_the_stage():
    assert policy.evaluate(policy_of(("Allow", f"{ARN}/*/*")), f"{ARN}/GET/users/bob") == policy.ALLOW


def test_a_policy_for_one_method_arn_does_not_cover_another():
    allowed = policy_of(("Allow", f"{ARN}/GET/me"))
    assert policy.evaluate(allowed, f"{ARN}/GET/users/bob") == policy.IMPLICIT_DENY
    assert policy.evaluate(allowed, f"{ARN}/PATCH/me") == policy.IMPLICIT_DENY


def test_a_deny_wins_over_an_allow_whatever_their_order():
    both = policy_of(("Allow", f"{ARN}/*"), ("Deny", f"{ARN}/GET/me"))
    assert policy.evaluate(both, f"{ARN}/GET/me") == policy.EXPLICIT_DENY


def test_an_answer_whose_context_holds_an_object_is_refused():
    with pytest.raises(policy.MalformedAuthorizerAnswer):
        policy.read_answer({"principalId": "p", "policyDocument": {"Statement": []}, "context": {"a": {"b": 1}}})


def test_a_cached_policy_expires_after_its_ttl():
    now = [0.0]
    cache = PolicyCache(clock=lambda: now[0])
    cache.put(("JwtAuthorizer", ("token",)), policy_of(), ttl=300)
    now[0] = 299.9
    assert cache.get(("JwtAuthorizer", ("token",))) is not None
    now[0] = 300.0
    assert cache.get(("JwtAuthorizer", ("token",))) is None


def test_a_ttl_of_zero_caches_nothing():
    cache = PolicyCache()
    cache.put(("JwtAuthorizer", ("token",)), policy_of(), ttl=0)
    assert cache.get(("JwtAuthorizer", ("token",))) is None


def test_a_literal_path_segment_wins_over_a_parameter():
    routes = (api.Route("GET", "/users/{user_id}", "Users", ""), api.Route("GET", "/users/me", "Me", ""))
    served = api.Api(stage="local", routes=routes, functions={}, authorizers={})
    assert served.find("GET", "/users/me")[0].function == "Me"
    assert served.find("GET", "/users/bob") == (routes[0], {"user_id": "bob"})


def test_any_and_greedy_parameters_match_like_api_gateway():
    routes = (api.Route("ANY", "/files/{path+}", "Files", ""),)
    served = api.Api(stage="local", routes=routes, functions={}, authorizers={})
    assert served.find("DELETE", "/files/a/b/c") == (routes[0], {"path": "a/b/c"})
    assert served.find("GET", "/files") is None


def test_a_template_value_resolves_from_parameters_or_stays_unknown():
    parameters = {"StageName": "local", "AWS::Region": "us-east-1"}
    assert api.resolve({"Ref": "StageName"}, parameters) == "local"
    assert api.resolve({"Fn::Sub": "/aws/${StageName}/${AWS::Region}"}, parameters) == "/aws/local/us-east-1"
    assert api.resolve({"Ref": "JwtIssuer"}, parameters) is None
    assert api.resolve({"Fn::GetAtt": ["Api", "Arn"]}, parameters) is None


def test_headers_and_multi_value_headers_merge_without_repeating_a_pair():
    response = read_result({"statusCode": 201, "headers": {"A": "1", "B": "2"}, "multiValueHeaders": {"a": ["1", "3"]}})
    assert sorted(response.headers) == [("B", "2"), ("Content-Type", "application/json"), ("a", "1"), ("a", "3")]


@pytest.mark.parametrize(
    "result",
    [
        None,
        {"statusCode": "200"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": "%%%", "isBase64Encoded": True},
        {"statusCode": 200, "headers": {"x": ["a list"]}},
        {"statusCode": 200, "headers": {"X-Injected": "a\r\nSet-Cookie: session=stolen"}},
        {"statusCode": 200, "headers": {"Bad Name": "value"}},
        {"statusCode": 200, "unexpected": True},
    ],
)
def test_a_malformed_proxy_result_is_refused(result):
    with pytest.raises(MalformedResult):
        read_result(result)


@pytest.mark.parametrize("path", ["/me", "/users/f:ldap:bob", "/a:b/c:d:e", "/"])
def test_the_method_arn_is_laid_out_as_api_gateway_documents_it(path):
    served = api.Api(stage="local", routes=(), functions={}, authorizers={})
    arn = served.method_arn("GET", path)
    assert arn == f"{ARN}/GET/{path.lstrip('/')}"
    partition_to_account, _, rest = arn.partition(":localapi01/")
    assert partition_to_account.split(":") == ["arn", "aws", "execute-api", "us-east-1", "123456789012"]
    assert rest.split("/", 2) == ["local", "GET", path.lstrip("/")]
