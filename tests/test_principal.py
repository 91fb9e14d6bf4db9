"""The principal, read from each place API Gateway may put it."""

import time

import pytest

from shared import errors
from shared.principal import Principal, principal_from_event
from tests.apigw import ALICE, cognito_authorizer, http_jwt_authorizer, http_lambda_authorizer, rest_authorizer

EXPECTED = Principal(
    sub="alice", email="alice@example.com", name="Alice Liddell", scopes=("profile:read", "profile:write")
)


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


# Claims follow the text rule bodies follow; the rest is dropped


@pytest.mark.parametrize(
    "name",
    ["\u202egnp.exe", "line\nbreak", "nul\x00", "     ", "A" * 3000, 42, ["Alice"]],
    ids=["override", "newline", "nul", "blank", "long", "number", "list"],
)
def test_a_name_claim_that_breaks_the_text_rule_is_dropped(name):
    assert Principal.from_claims({"sub": "alice", "name": name}).name == ""


@pytest.mark.parametrize(
    "email",
    [
        "\u202eevil@example.com",
        "a\x00@example.com",
        "no-at-sign",
        "@example.com",
        "alice@",
        "al ice@example.com",
        "a" * 250 + "@example.com",
    ],
)
def test_an_email_claim_that_is_not_one_plain_address_is_dropped(email):
    assert Principal.from_claims({"sub": "alice", "email": email}).email == ""


def test_plain_name_and_email_claims_are_kept():
    principal = Principal.from_claims({"sub": "alice", "name": "Zoë Åberg", "email": "zoe@example.com"})
    assert (principal.name, principal.email) == ("Zoë Åberg", "zoe@example.com")


def test_scopes_keep_only_rfc_6749_scope_tokens():
    principal = Principal.from_claims({"sub": "alice", "scope": ["read", "wr\u202eite", 'a"b', "x" * 200, 7]})
    assert principal.scopes == ("read",)


# The HTTP API JWT authorizer's claims: 401 whatever their shape, never a 500


def jwt_context(claims) -> dict:
    return {"authorizer": {"jwt": {"claims": claims, "scopes": None}}}


NOW = str(int(time.time()))


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "alice", "iat": "²", "exp": NOW},
        {"sub": "alice", "iat": NOW, "exp": "①"},
        {"sub": "alice", "iat": NOW, "exp": "1" + "0" * 4999},
        {"sub": "alice", "iat": NOW, "exp": "١٢٣"},
        {"sub": "alice", "iat": NOW, "exp": "-5"},
        {"sub": "alice", "iat": NOW, "exp": True},
        {"sub": "alice", "iat": None, "exp": NOW},
        None,
        [],
        "alice",
    ],
    ids=[
        "superscript",
        "circled",
        "5000-digits",
        "arabic-indic",
        "negative",
        "bool",
        "null-iat",
        "null-claims",
        "list-claims",
        "string-claims",
    ],
)
def test_jwt_claims_of_any_shape_are_401(claims):
    with pytest.raises(errors.Unauthorized):
        principal_from_event(jwt_context(claims), {})


def test_a_jwt_block_without_claims_beside_a_lambda_block_is_401():
    with pytest.raises(errors.Unauthorized):
        principal_from_event({"authorizer": {"jwt": {"scopes": None}, "lambda": {"sub": "alice"}}}, {})


def test_numeric_time_claims_from_the_jwt_authorizer_are_read_as_seconds():
    claims = {"sub": "alice", "iat": int(NOW), "exp": int(NOW) + 60}
    assert principal_from_event(jwt_context(claims), {}).sub == "alice"


def test_a_name_claim_holding_a_lone_surrogate_is_dropped():
    # PyJWT decodes claims with the standard json module, which turns "\ud800" into a lone surrogate
    assert Principal.from_claims({"sub": "alice", "name": "Al\ud800ice"}).name == ""
