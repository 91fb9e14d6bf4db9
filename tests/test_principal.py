"""The principal, read from each place API Gateway may put it."""

import time

import pytest

from shared import errors
from shared.principal import Principal, principal_from_event
from tests.apigw import ALICE, cognito_authorizer, http_jwt_authorizer, http_lambda_authorizer, rest_authorizer

EXPECTED = Principal(sub="alice", email="alice@example.com", name="Alice Liddell",
                     scopes=("profile:read", "profile:write"))


@pytest.mark.parametrize("shape", [rest_authorizer, cognito_authorizer, http_lambda_authorizer, http_jwt_authorizer])
def test_every_authorizer_shape_gives_the_same_principal(shape):
    assert principal_from_event({"authorizer": shape(ALICE)}, {}) == EXPECTED


def test_rest_lambda_authorizer_without_sub_uses_principal_id():
    assert principal_from_event({"authorizer": {"principalId": "bob"}}, {}).sub == "bob"

# What API Gateway's JWT authorizer hands over for a token it accepted: exp (required) and iat, as strings.
TIMES = {"iat": str(int(time.time())), "exp": str(int(time.time()) + 600)}


def test_http_jwt_scopes_list_is_used_without_a_scope_claim():
    authorizer = {"jwt": {"claims": {"sub": "alice", **TIMES}, "scopes": ["a", "b"]}}
    assert principal_from_event({"authorizer": authorizer}, {}).scopes == ("a", "b")


def test_http_jwt_array_claims_arrive_as_bracketed_strings():
    authorizer = {"jwt": {"claims": {"sub": "alice", "scope": "[a b]", **TIMES}, "scopes": None}}
    assert principal_from_event({"authorizer": authorizer}, {}).scopes == ("a", "b")


@pytest.mark.parametrize(
    "context",
    [
        {},
        {"authorizer": None},
        {"authorizer": "alice"},
        {"authorizer": {}},
        {"authorizer": {"claims": {}}},
        {"authorizer": {"lambda": {"sub": 42}}},
        {"authorizer": {"jwt": {"claims": {"sub": ""}}}},
        {"authorizer": {"principalId": "x" * 256}},
    ],
)
def test_missing_or_unusable_principal_is_401(context):
    with pytest.raises(errors.Unauthorized):
        principal_from_event(context, {})


def test_bearer_token_is_ignored_without_local_auth():
    with pytest.raises(errors.Unauthorized):
        principal_from_event({}, {"authorization": "Bearer anything"})
