"""The authorizer function: payload shapes, API Gateway's answers, policies, context and its round trip."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import authorizer
from shared import tokens
from shared.principal import Principal, principal_from_event
from tests import apigw
from tests.fixtures.resources import parcels
from tests.tokenkit import claims, sign
from tools import invoke, lambda_context, samtemplate

ROOT = Path(__file__).resolve().parent.parent
REGION_ACCOUNT = "arn:aws:execute-api:eu-west-1:123456789012"
METHOD_ARN = f"{REGION_ACCOUNT}:a1b2c3d4e5/dev/GET/me"
ROUTE_ARN = f"{REGION_ACCOUNT}:a1b2c3d4e5/$default/GET/me"
RICH_CLAIMS = claims(
    scope="profile:read profile:write",
    groups=["admins"],
    address={"city": "Oxford"},
    email_verified=True,
    name="Alice Liddell",
)


@pytest.fixture(autouse=True)
def local(configure):
    configure()


def token_event(authorization: str, method_arn: str = METHOD_ARN) -> dict:
    return {"type": "TOKEN", "authorizationToken": authorization, "methodArn": method_arn}


def request_event(headers: dict, multi: dict | None = None) -> dict:
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "httpMethod": "GET",
        "path": "/me",
        "headers": headers,
        "multiValueHeaders": multi or {name: [value] for name, value in headers.items()},
    }


def http_event(headers: dict) -> dict:
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": ROUTE_ARN,
        "routeKey": "GET /me",
        "rawPath": "/me",
        "headers": headers,
        "requestContext": {"http": {"method": "GET", "path": "/me"}},
    }


def bearer(payload: dict | None = None) -> str:
    return f"Bearer {sign(payload or claims())}"


def denied(event: dict) -> None:
    with pytest.raises(Exception) as refused:
        authorizer.lambda_handler(event, None)
    assert str(refused.value) == "Unauthorized"


def iam_matches(resource: str, arn: str) -> bool:
    """IAM's wildcard match of a policy resource against an ARN: ``*`` spans any characters."""
    return re.fullmatch(".*".join(map(re.escape, resource.split("*"))), arn) is not None


# The three payloads


def test_a_rest_token_authorizer_allows_a_valid_token():
    answer = authorizer.lambda_handler(token_event(bearer()), None)
    assert answer["principalId"] == "alice"
    assert answer["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{REGION_ACCOUNT}:a1b2c3d4e5/dev/*/*"}
    ]


def test_a_rest_request_authorizer_reads_the_header_in_any_case():
    for name in ("Authorization", "authorization", "AUTHORIZATION"):
        assert authorizer.lambda_handler(request_event({name: bearer()}), None)["principalId"] == "alice"


def test_an_http_api_authorizer_answers_with_a_simple_response():
    answer = authorizer.lambda_handler(http_event({"authorization": bearer()}), None)
    assert answer["isAuthorized"] is True
    assert answer["context"]["sub"] == "alice"


# Refusals: 401 the way each payload expects it


@pytest.mark.parametrize("authorization", ["", "Basic YWxpY2U6c2VjcmV0", "Bearer not.a.token", bearer(claims(exp=1))])
def test_a_rest_token_authorizer_raises_unauthorized_for_a_bad_token(authorization):
    denied(token_event(authorization))


def test_a_rest_request_authorizer_raises_unauthorized_without_a_header():
    denied(request_event({"Accept": "application/json"}))
    denied({"type": "REQUEST", "methodArn": METHOD_ARN, "headers": None})


def test_a_rest_request_authorizer_refuses_two_authorization_headers():
    token = bearer()
    denied(request_event({"Authorization": token}, multi={"Authorization": [token, token]}))
    denied(request_event({"Authorization": token, "authorization": token}))


def test_an_http_api_authorizer_answers_not_authorized_for_a_bad_token():
    assert authorizer.lambda_handler(http_event({"authorization": "Bearer x.y.z"}), None) == {"isAuthorized": False}
    assert authorizer.lambda_handler(http_event({}), None) == {"isAuthorized": False}


# Faults that are not the caller's: an error (API Gateway answers 500), never an Allow


def test_a_configuration_error_raises_and_allows_nothing(configure):
    configure(STAGE="prod", JWT_ISSUER="https://issuer.example.com/")
    for event in (token_event(bearer()), http_event({"authorization": bearer()})):
        with pytest.raises(authorizer.AuthorizerFailure):
            authorizer.lambda_handler(event, None)


def test_a_failure_line_names_the_version_that_failed_for_the_canary_alarm(configure, monkeypatch, capsys):
    configure(JWT_LEEWAY_SECONDS="lots")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "7")
    with pytest.raises(authorizer.AuthorizerFailure):
        authorizer.lambda_handler(token_event(bearer()), None)
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "authorizer failure" in line]
    assert (line["message"], line["version"]) == ("authorizer failure", "7")


def test_a_configuration_error_names_the_variable_in_the_error_lambda_logs(configure):
    configure(JWT_LEEWAY_SECONDS="lots")
    with pytest.raises(authorizer.AuthorizerFailure, match="ConfigError: JWT_LEEWAY_SECONDS must be an integer"):
        authorizer.lambda_handler(token_event(bearer()), None)


def test_settings_the_authorizer_does_not_use_cannot_stop_it(configure):
    configure(MONGODB_TIMEOUT_MS="5", LOG_LEVEL="LOUD")
    assert authorizer.lambda_handler(token_event(bearer()), None)["principalId"] == "alice"


@pytest.mark.parametrize(
    "make_event, refused",
    [
        (lambda token: token_event(token), None),
        (lambda token: http_event({"authorization": token}), {"isAuthorized": False}),
    ],
)
def test_a_numeric_string_exp_is_refused_by_every_payload(make_event, refused):
    token = bearer({**claims(), "exp": "99999999999"})
    if refused is None:
        denied(make_event(token))
    else:
        assert authorizer.lambda_handler(make_event(token), None) == refused


@pytest.mark.parametrize(
    "event",
    [
        {},
        None,
        {"type": "TOKEN", "authorizationToken": "Bearer x"},
        {"httpMethod": "GET", "path": "/me", "requestContext": {}},
    ],
)
def test_an_event_that_is_no_authorizer_payload_raises_and_allows_nothing(event):
    with pytest.raises(authorizer.AuthorizerFailure):
        authorizer.lambda_handler(event, None)


def test_a_method_arn_that_is_no_execute_api_arn_raises_and_allows_nothing():
    with pytest.raises(authorizer.AuthorizerFailure):
        authorizer.lambda_handler(token_event(bearer(), method_arn="arn:aws:s3:::a1b2c3d4e5/dev/GET/me"), None)


# Policy and context


def test_the_policy_admits_every_route_of_the_same_api_and_stage():
    resource = authorizer.lambda_handler(token_event(bearer()), None)["policyDocument"]["Statement"][0]["Resource"]
    declared = [(route.method, route.path) for route in samtemplate.api_routes(samtemplate.load())]
    nested = [(route.method, route.template) for route in parcels.router.routes]  # path parameters, an action
    for method, template in [*declared, *nested]:
        path = re.sub(r"\{[^}]+\}", "65f1a0c2e4b0a1b2c3d4e5f7", template)
        assert iam_matches(resource, f"{REGION_ACCOUNT}:a1b2c3d4e5/dev/{method}{path}")


@pytest.mark.parametrize(
    "arn",
    [
        f"{REGION_ACCOUNT}:a1b2c3d4e5/prod/GET/me",
        f"{REGION_ACCOUNT}:zzzzzzzzzz/dev/GET/me",
        f"{REGION_ACCOUNT}:a1b2c3d4e5x/dev/GET/me",
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/dev/GET/me",
        "arn:aws:execute-api:eu-west-1:999999999999:a1b2c3d4e5/dev/GET/me",
    ],
)
def test_the_policy_admits_no_other_stage_api_region_or_account(arn):
    resource = authorizer.lambda_handler(token_event(bearer()), None)["policyDocument"]["Statement"][0]["Resource"]
    assert not iam_matches(resource, arn)


def test_the_policy_does_not_depend_on_the_route_that_asked_first():
    token = bearer()
    first = authorizer.lambda_handler(token_event(token, f"{REGION_ACCOUNT}:a1b2c3d4e5/dev/GET/me"), None)
    other = authorizer.lambda_handler(token_event(token, f"{REGION_ACCOUNT}:a1b2c3d4e5/dev/DELETE/me"), None)
    assert first == other


@pytest.mark.parametrize(
    "make_event",
    [
        lambda token: token_event(token),
        lambda token: request_event({"Authorization": token}),
        lambda token: http_event({"authorization": token}),
    ],
)
def test_the_context_is_flat_and_holds_only_scalars(make_event):
    context = authorizer.lambda_handler(make_event(bearer(RICH_CLAIMS)), None)["context"]
    assert set(context) >= {"sub", "email", "name", "scope"}
    assert all(isinstance(value, str | int | float | bool) for value in context.values())


def test_a_list_of_scopes_is_flattened_into_the_context():
    context = authorizer.lambda_handler(token_event(bearer(claims(scope=["a:read", "b:write"]))), None)["context"]
    assert context["scope"] == "a:read b:write"


@pytest.mark.parametrize("sub", ["", "a/b", None])
def test_claims_that_name_no_caller_are_a_refused_token_not_a_failure(sub):
    with pytest.raises(tokens.InvalidToken, match="no usable sub"):
        authorizer.context_of(claims(sub=sub))


def test_the_rest_context_reads_back_as_the_same_principal():
    answer = authorizer.lambda_handler(token_event(bearer(RICH_CLAIMS)), None)
    as_api_gateway_passes_it = {
        "principalId": answer["principalId"],
        **{name: str(value) for name, value in answer["context"].items()},
    }
    event = apigw.rest_event("GET", "/me", authorizer=as_api_gateway_passes_it)
    principal = principal_from_event(event["requestContext"], {})
    assert principal == Principal.from_claims(RICH_CLAIMS)
    assert principal == Principal("alice", "alice@example.com", "Alice Liddell", ("profile:read", "profile:write"))


def test_the_http_api_context_reads_back_as_the_same_principal():
    answer = authorizer.lambda_handler(http_event({"authorization": bearer(RICH_CLAIMS)}), None)
    event = apigw.http_event("GET", "/me", authorizer={"lambda": answer["context"]})
    assert principal_from_event(event["requestContext"], {}) == Principal.from_claims(RICH_CLAIMS)


def test_local_auth_verifies_with_the_same_verifier_and_reads_the_same_principal(configure):
    configure(LOCAL_AUTH="true")
    token = bearer(RICH_CLAIMS)
    without_authorizer = apigw.rest_event("GET", "/me", headers={"Authorization": token})
    assert principal_from_event(
        without_authorizer["requestContext"], {"authorization": token}
    ) == Principal.from_claims(RICH_CLAIMS)


# Events, invoke and cold start


@pytest.mark.parametrize("name", ["authorizer-token.json", "authorizer-request.json", "authorizer-http.json"])
def test_each_authorizer_event_is_routed_to_the_authorizer_and_allowed(name):
    event = invoke.load_event(ROOT / "events" / name)
    function, handler = invoke.function_for(event, samtemplate.load())
    assert handler == "authorizer.lambda_handler"
    answer = authorizer.lambda_handler(event, lambda_context.Context(function))
    assert answer.get("isAuthorized") is True or answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_make_invoke_prints_an_allow_policy_for_the_token_event():
    env = {**os.environ, "STAGE": "local", "MONGODB_URI": "mongodb://127.0.0.1:1/"}
    result = subprocess.run(
        [sys.executable, "-m", "tools.invoke", "events/authorizer-token.json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer = json.loads(result.stdout[result.stdout.index("{\n") :])
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_the_authorizer_imports_neither_pymongo_nor_boto3():
    script = (
        "import sys\n"
        "heavy = lambda: [name for name in ('pymongo', 'bson', 'boto3', 'botocore') if name in sys.modules]\n"
        "import authorizer\n"
        "print(heavy())\n"
        "from tools.local_token import mint_local_token\n"
        "event = {'type': 'TOKEN', 'authorizationToken': 'Bearer ' + mint_local_token('alice'),"
        f" 'methodArn': {METHOD_ARN!r}}}\n"
        "assert authorizer.lambda_handler(event, None)['principalId'] == 'alice'\n"
        "print(heavy())\n"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("JWT_")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "STAGE": "local"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["[]", "[]"]


# Any path, any number: a refusal or an Allow, never a failure


@pytest.mark.parametrize(
    "path",
    [
        "users/f:ldap:bob",
        "users/:",
        "users/a:b:c:d:e:f:g",
        ":",
        "a:b/c:d/e:f",
        "users/arn:aws:execute-api:x:y:z/dev",
        "",
    ],
)
def test_a_colon_anywhere_in_the_path_gets_the_same_stage_wide_allow(path):
    method_arn = f"{REGION_ACCOUNT}:a1b2c3d4e5/dev/GET/{path}"
    rest_request = {**request_event({"Authorization": bearer()}), "methodArn": method_arn}
    for event in (token_event(bearer(), method_arn), rest_request):
        statement = authorizer.lambda_handler(event, None)["policyDocument"]["Statement"][0]
        assert statement["Resource"] == f"{REGION_ACCOUNT}:a1b2c3d4e5/dev/*/*"


@pytest.mark.parametrize("path", ["users/f:ldap:bob", "a:b:c:d:e:f:g/h"])
def test_a_colon_anywhere_in_an_http_api_route_arn_still_authorizes(path):
    event = {**http_event({"authorization": bearer()}), "routeArn": f"{REGION_ACCOUNT}:a1b2c3d4e5/$default/GET/{path}"}
    assert authorizer.lambda_handler(event, None)["isAuthorized"] is True


@pytest.mark.parametrize(
    "method_arn",
    [
        "arn:aws:execute-api:eu-west-1:123456789012",
        "arn:aws:execute-api:eu-west-1:123456789012:",
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5",
        "arn:aws:execute-api:eu-west-1:123456789012:/dev/GET/me",
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5//GET/me",
        "arn:aws:execute-api:eu-west-1:1234:a1b2c3d4e5/dev/GET/me",
        "arn:aws:execute-api:eu-west-1/x:123456789012:a1b2c3d4e5/dev/GET/me",
        "arn:aws:lambda:eu-west-1:123456789012:a1b2c3d4e5/dev/GET/me",
        "arn::execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev/GET/me",
        "xarn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev/GET/me",
    ],
)
def test_a_method_arn_not_laid_out_as_documented_raises_and_allows_nothing(method_arn):
    with pytest.raises(authorizer.AuthorizerFailure):
        authorizer.lambda_handler(token_event(bearer(), method_arn=method_arn), None)


@pytest.mark.parametrize("exp", [10**400, -(10**400), 10**20, float("inf")], ids=repr)
def test_a_validly_signed_token_with_a_huge_exp_is_refused_by_every_payload(exp):
    token = bearer({**claims(), "exp": exp})
    denied(token_event(token))
    assert authorizer.lambda_handler(http_event({"authorization": token}), None) == {"isAuthorized": False}


def test_a_failure_is_logged_redacted_and_cut(configure, capsys):
    leaked = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9." + "s" * 2000
    configure(JWT_LEEWAY_SECONDS=leaked)
    with pytest.raises(authorizer.AuthorizerFailure) as failure:
        authorizer.lambda_handler(token_event(bearer()), None)
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "authorizer failure" in line]
    assert "eyJhbGci" not in line and "sss" not in line
    assert "JWT_LEEWAY_SECONDS" in json.loads(line)["reason"] and len(json.loads(line)["reason"]) <= 500
    assert "eyJhbGci" not in str(failure.value) and len(str(failure.value)) <= 600
