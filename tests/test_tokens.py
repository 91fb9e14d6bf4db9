"""The verifier with an HMAC secret: what it accepts, what it refuses and why, how it is configured."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from shared import tokens
from shared.config import ConfigError
from tests.tokenkit import ISSUER, b64url, claims, sign
from tools.local_token import mint_local_token

ROOT = Path(__file__).resolve().parent.parent
SECRET = "a-production-grade-secret-of-more-than-32-bytes"


@pytest.fixture(autouse=True)
def local(configure):
    configure()


def refusal(authorization) -> str:
    with pytest.raises(tokens.InvalidToken) as refused:
        tokens.verify_authorization(authorization)
    return str(refused.value)


# Accepted


def test_a_valid_hs256_token_gives_its_claims():
    verified = tokens.verify_authorization(f"Bearer {sign(claims())}")
    assert verified["sub"] == "alice"
    assert verified["email"] == "alice@example.com"
    assert verified["scope"] == "profile:read profile:write"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(scheme):
    assert tokens.verify_authorization(f"{scheme} {sign(claims())}")["sub"] == "alice"


def test_a_token_expired_within_the_leeway_is_accepted():
    assert tokens.verify_authorization(f"Bearer {sign(claims(exp=int(time.time()) - 5))}")["sub"] == "alice"


def test_the_leeway_is_configurable(configure):
    configure(JWT_LEEWAY_SECONDS="0")
    assert refusal(f"Bearer {sign(claims(exp=int(time.time()) - 5))}") == "the token has expired"


def test_okta_style_scp_scopes_are_read_as_scope():
    verified = tokens.verify_authorization(f"Bearer {sign(claims(scope=None, scp=['profile:read']))}")
    assert verified["scope"] == ["profile:read"]


def test_a_local_token_minted_by_make_token_tooling_verifies():
    verified = tokens.verify_authorization(f"Bearer {mint_local_token('bob', 'profile:read', ttl=60)}")
    assert (verified["sub"], verified["scope"]) == ("bob", "profile:read")
    assert verified["exp"] - verified["iat"] == 60


# Refused: claims


def test_an_expired_token_is_refused():
    assert refusal(f"Bearer {sign(claims(exp=int(time.time()) - 120))}") == "the token has expired"


def test_a_token_not_valid_yet_is_refused():
    assert refusal(f"Bearer {sign(claims(nbf=int(time.time()) + 600))}") == "the token is not valid yet"


def test_a_token_issued_in_the_future_is_refused():
    assert refusal(f"Bearer {sign(claims(iat=int(time.time()) + 600))}") == "the token is not valid yet"


def test_a_wrong_issuer_is_refused():
    assert refusal(f"Bearer {sign(claims(iss='https://evil.example.com/'))}") == "the token's issuer is not accepted"


def test_a_wrong_audience_is_refused():
    assert refusal(f"Bearer {sign(claims(aud='another-api'))}") == "the token's audience is not accepted"


@pytest.mark.parametrize("claim", ["sub", "exp", "iat", "iss", "aud"])
def test_a_missing_required_claim_is_refused(claim):
    assert refusal(f"Bearer {sign(claims(**{claim: None}))}") == f"the token has no {claim} claim"


@pytest.mark.parametrize("sub", ["", "   ", "x" * 256, 42])
def test_an_unusable_sub_is_refused(sub):
    refusal(f"Bearer {sign(claims(sub=sub))}")


@pytest.mark.parametrize("sub", ["team/alice", "alice?admin=1", "alice#x", ".", "..", "al\nice", "al\u2028ice"])
def test_a_sub_that_cannot_be_one_path_segment_is_refused(sub):
    reason = refusal(f"Bearer {sign(claims(sub=sub))}")
    assert reason.startswith("the token's sub claim must fit in one URL path segment")


@pytest.mark.parametrize("sub", ["al ice", "al%2Fice", "alice@example.com", "élise", "a.b", "..."])
def test_a_sub_with_characters_a_client_percent_encodes_is_accepted(sub):
    assert tokens.verify_authorization(f"Bearer {sign(claims(sub=sub))}")["sub"] == sub


# Refused: time claims that are not RFC 7519 NumericDates (JSON numbers)

NOT_NUMBERS = ["1700000000", "soon", True, False, None, {}, [], [1700000000], float("inf")]


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", NOT_NUMBERS, ids=repr)
def test_a_time_claim_that_is_not_a_json_number_is_refused(claim, value):
    token = sign({**claims(), claim: value})
    assert refusal(f"Bearer {token}") == f"the token's {claim} claim must be a number (RFC 7519 NumericDate)"


def sign_raw(payload_json: str) -> str:
    """An HS256 token over ``payload_json`` exactly as written: JSON numbers no Python value encodes to."""
    signing_input = f"{b64url({'alg': 'HS256', 'typ': 'JWT'})}.{b64url(payload_json.encode())}"
    signature = hmac.new(tokens.LOCAL_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


HUGE_OR_ODD_NUMBERS = [
    "1" + "0" * 400,
    "-1" + "0" * 400,
    "1" + "0" * 5000,
    "1e400",
    "-1e400",
    "1e300",
    "1e20",
    "Infinity",
    "-Infinity",
    "NaN",
    "253402300800",
    "-1",
]


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("number", HUGE_OR_ODD_NUMBERS, ids=lambda number: number[:12])
def test_a_time_claim_outside_the_years_1970_to_9999_is_refused(claim, number):
    valid = {**claims(), "nbf": int(time.time()) - 10}
    fields = [f'"{name}": {number if name == claim else json.dumps(value)}' for name, value in valid.items()]
    reason = refusal(f"Bearer {sign_raw('{' + ', '.join(fields) + '}')}")
    assert reason in (
        f"the token's {claim} claim must be a number (RFC 7519 NumericDate)",
        f"the token's {claim} claim must be a date between the years 1970 and 9999",
        "the token is malformed",
    )


def test_a_token_signed_over_raw_json_verifies_when_its_numbers_are_ordinary():
    fields = ", ".join(f'"{name}": {json.dumps(value)}' for name, value in claims().items())
    assert tokens.verify_authorization(f"Bearer {sign_raw('{' + fields + '}')}")["sub"] == "alice"


def test_a_numeric_string_exp_is_refused_even_when_it_is_in_the_future():
    token = sign({**claims(), "exp": str(int(time.time()) + 600)})
    assert refusal(f"Bearer {token}") == "the token's exp claim must be a number (RFC 7519 NumericDate)"


def test_time_claims_with_fractions_are_numbers_too():
    now = time.time()
    verified = tokens.verify_authorization(f"Bearer {sign(claims(iat=now, nbf=now - 0.5, exp=now + 600.25))}")
    assert verified["exp"] == now + 600.25


def test_a_token_with_a_bad_signature_is_refused_for_its_signature_before_its_claims():
    token = sign({**claims(), "exp": "tomorrow"}, key="another-secret-that-is-at-least-32-bytes-long")
    assert refusal(f"Bearer {token}") == "the token's signature does not verify"


# Refused: a lifetime above JWT_MAX_LIFETIME_SECONDS


def test_without_a_lifetime_limit_a_long_lived_token_is_accepted():
    now = int(time.time())
    assert tokens.verify_authorization(f"Bearer {sign(claims(iat=now, exp=now + 365 * 86400))}")["sub"] == "alice"


def test_a_token_living_longer_than_the_limit_is_refused(configure):
    configure(JWT_MAX_LIFETIME_SECONDS="3600")
    now = int(time.time())
    reason = refusal(f"Bearer {sign(claims(iat=now, exp=now + 3601))}")
    assert reason == "the token lives longer (exp - iat) than the 3600 s this API accepts"


def test_a_token_living_exactly_the_limit_is_accepted(configure):
    configure(JWT_MAX_LIFETIME_SECONDS="3600")
    now = int(time.time())
    assert tokens.verify_authorization(f"Bearer {sign(claims(iat=now, exp=now + 3600))}")["sub"] == "alice"


def test_an_empty_lifetime_limit_means_no_limit(configure):
    configure(JWT_MAX_LIFETIME_SECONDS="")
    now = int(time.time())
    assert tokens.verify_authorization(f"Bearer {sign(claims(iat=now, exp=now + 90 * 86400))}")["sub"] == "alice"


def test_a_lifetime_limit_of_zero_means_no_limit(configure):
    configure(JWT_MAX_LIFETIME_SECONDS="0")  # the template's default
    now = int(time.time())
    assert tokens.verify_authorization(f"Bearer {sign(claims(iat=now, exp=now + 90 * 86400))}")["sub"] == "alice"


def test_iss_and_aud_are_not_checked_when_not_configured(configure):
    configure(JWT_SECRET=SECRET)
    token = sign(claims(iss=None, aud="anything"), key=SECRET)
    assert tokens.verify_authorization(f"Bearer {token}")["sub"] == "alice"


# Refused: signature and algorithm


def test_a_token_signed_with_another_secret_is_refused():
    token = sign(claims(), key="another-secret-that-is-at-least-32-bytes-long")
    assert refusal(f"Bearer {token}") == "the token's signature does not verify"


def test_an_unsigned_alg_none_token_is_refused():
    header, payload = b64url({"alg": "none", "typ": "JWT"}), b64url(claims())
    refusal(f"Bearer {header}.{payload}.")
    assert refusal(f"Bearer {header}.{payload}.c2ln") == "the token's algorithm is not accepted for this key"


def test_an_algorithm_outside_the_allowlist_is_refused():
    token = sign(claims(), algorithm="HS512")
    assert refusal(f"Bearer {token}") == "the token's algorithm is not accepted for this key"


def test_a_tampered_payload_is_refused():
    header, _, signature = sign(claims()).split(".")
    forged = b64url(claims(sub="mallory"))
    assert refusal(f"Bearer {header}.{forged}.{signature}") == "the token's signature does not verify"


def test_a_tampered_signature_is_refused():
    header, payload, signature = sign(claims()).split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert refusal(f"Bearer {header}.{payload}.{flipped}") == "the token's signature does not verify"


# Refused: the header itself


def test_an_oversized_token_is_refused_before_decoding():
    token = sign(claims(padding="x" * 9000))
    assert refusal(f"Bearer {token}") == "the token is too large"
    assert refusal("Bearer " + "a" * 100_000) == "the token is too large"


@pytest.mark.parametrize("authorization", ["Basic YWxpY2U6c2VjcmV0", "Token {t}", "{t}", "Bearer: {t}", "JWT {t}"])
def test_a_wrong_scheme_is_refused(authorization):
    refusal(authorization.format(t=sign(claims())))


@pytest.mark.parametrize("authorization", [None, "", "   ", "Bearer", "Bearer ", 42])
def test_an_empty_authorization_is_refused(authorization):
    refusal(authorization)


@pytest.mark.parametrize(
    "shape",
    [
        "{h}.{p}",
        "{h}.{p}.{s}.{s}",
        "{h}.{p}.{s}.",
        "{h}..{s}",
        ".{p}.{s}",
        "{h}.{p}.{s} {s}",
        "{h}.{p}.{s}=",
        "{h}.{p}.{s}%",
        "{h}+.{p}.{s}",
        "{h}.{p}/.{s}",
        "{h}.{p}.{s}\u00e9",
        "{h}.{p}.{s}\ud800",
    ],
)
def test_a_token_with_empty_or_extra_parts_or_other_characters_than_base64url_is_refused(shape):
    header, payload, signature = sign(claims()).split(".")
    refusal("Bearer " + shape.format(h=header, p=payload, s=signature))


def test_refusals_never_echo_the_token_or_the_secret():
    token = sign(claims(iss="https://evil.example.com/"))
    for authorization in (f"Bearer {token}", f"Bearer {token}x", f"Token {token}", f"Bearer {token[:-3]}"):
        reason = refusal(authorization)
        assert token[:20] not in reason and tokens.LOCAL_SECRET not in reason


# Configuration


def test_the_verifier_ignores_settings_it_does_not_use(configure):
    configure(MONGODB_TIMEOUT_MS="5", CORS_ALLOW_ORIGINS="not-an-origin")
    assert tokens.verify_authorization(f"Bearer {sign(claims())}")["sub"] == "alice"


def test_the_local_secret_is_refused_outside_the_local_stage(configure):
    configure(STAGE="prod", JWT_ISSUER=ISSUER)
    with pytest.raises(ConfigError, match="JWT_SECRET or JWT_JWKS_URL must be set"):
        tokens.verify_authorization(f"Bearer {sign(claims())}")


def test_a_plain_text_secret_is_refused_outside_the_local_stage(configure):
    configure(STAGE="prod", JWT_SECRET=SECRET, JWT_ISSUER=ISSUER)
    with pytest.raises(ConfigError, match="Secrets Manager or SSM reference"):
        tokens.verify_authorization(f"Bearer {sign(claims(iss=ISSUER), key=SECRET)}")


def test_outside_the_local_stage_an_issuer_is_required(configure):
    configure(STAGE="prod", JWT_SECRET="ssm:/bare-api/jwt-secret")
    with pytest.raises(ConfigError, match="JWT_ISSUER"):
        tokens.verifier()


@pytest.mark.parametrize(
    "env, complaint",
    [
        ({"JWT_ALGORITHMS": "none"}, "JWT_ALGORITHMS"),
        ({"JWT_ALGORITHMS": "HS256,none"}, "JWT_ALGORITHMS"),
        ({"JWT_ALGORITHMS": "RS256"}, "JWT_ALGORITHMS"),
        ({"JWT_JWKS_URL": "https://issuer.example.com/jwks.json", "JWT_ALGORITHMS": "HS256"}, "JWT_ALGORITHMS"),
        ({"JWT_JWKS_URL": "https://issuer.example.com/jwks.json", "JWT_SECRET": SECRET}, "not both"),
        ({"JWT_JWKS_URL": "http://issuer.example.com/jwks.json"}, "JWT_JWKS_URL"),
        ({"JWT_JWKS_URL": "file:///etc/passwd"}, "JWT_JWKS_URL"),
        ({"JWT_JWKS_URL": "https://user:pass@issuer.example.com/jwks.json"}, "JWT_JWKS_URL"),
        ({"JWT_JWKS_URL": "http://issuer.example.com@127.0.0.1/jwks.json"}, "JWT_JWKS_URL"),
        ({"JWT_JWKS_URL": "https://issuer.example.com:port/jwks.json"}, "JWT_JWKS_URL"),
        ({"JWT_SECRET": "short"}, "at least 32 bytes"),
        ({"JWT_SECRET": SECRET, "JWT_ALGORITHMS": "HS512"}, "at least 64 bytes"),
        ({"JWT_LEEWAY_SECONDS": "3600"}, "JWT_LEEWAY_SECONDS"),
        ({"JWT_MAX_TOKEN_BYTES": "lots"}, "JWT_MAX_TOKEN_BYTES"),
        ({"JWT_MAX_LIFETIME_SECONDS": "an hour"}, "JWT_MAX_LIFETIME_SECONDS"),
        ({"JWT_MAX_LIFETIME_SECONDS": "-1"}, "JWT_MAX_LIFETIME_SECONDS must be between 0 and 2592000"),
        ({"JWT_MAX_LIFETIME_SECONDS": "2592001"}, "JWT_MAX_LIFETIME_SECONDS must be between 0 and 2592000"),
    ],
)
def test_a_bad_setting_fails_with_a_config_error_naming_it(configure, env, complaint):
    configure(**env)
    with pytest.raises(ConfigError, match=complaint):
        tokens.verifier()


def test_a_secrets_manager_secret_is_fetched_once_and_used_outside_the_local_stage(configure, aws):
    import boto3

    client = boto3.client("secretsmanager", region_name="eu-west-1")
    arn = client.create_secret(Name="bare-api/jwt", SecretString=SECRET)["ARN"]
    configure(STAGE="prod", JWT_SECRET=arn, JWT_ISSUER=ISSUER, JWT_AUDIENCE="bare-api")
    token = sign(claims(iss=ISSUER, aud="bare-api"), key=SECRET)
    assert tokens.verify_authorization(f"Bearer {token}")["sub"] == "alice"
    client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    assert tokens.verify_authorization(f"Bearer {token}")["sub"] == "alice"


def test_a_secret_reference_holding_the_local_secret_is_refused_outside_the_local_stage(configure, aws):
    import boto3

    boto3.client("ssm", region_name="eu-west-1").put_parameter(
        Name="/bare-api/jwt", Value=tokens.LOCAL_SECRET, Type="SecureString"
    )
    configure(STAGE="prod", JWT_SECRET="ssm:/bare-api/jwt", JWT_ISSUER=ISSUER)
    with pytest.raises(ConfigError, match="local development secret is refused"):
        tokens.verifier()


# Local tokens


def test_local_tokens_are_refused_outside_the_local_stage(configure):
    configure(STAGE="prod")
    with pytest.raises(ConfigError, match="STAGE=local only"):
        mint_local_token("alice")


@pytest.mark.parametrize("sub, ttl", [("", 60), (" alice", 60), ("x" * 256, 60), ("alice", 0), ("alice", 10**7)])
def test_local_tokens_need_a_usable_sub_and_ttl(sub, ttl):
    with pytest.raises(ValueError):
        mint_local_token(sub, ttl=ttl)


def test_make_token_prints_only_the_token():
    command = [
        "make",
        "-s",
        "-o",
        ".venv/.installed",  # never reinstall the virtualenv from inside a test
        "token",
        "SUB=bob",
        "SCOPE=profile:read profile:write",
        "TTL=120",
    ]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True, env={**os.environ, "STAGE": "local"}
    )
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+\n", result.stdout)
    verified = tokens.verify_authorization(f"Bearer {result.stdout.strip()}")
    assert (verified["sub"], verified["scope"]) == ("bob", "profile:read profile:write")
    assert verified["exp"] - verified["iat"] == 120
