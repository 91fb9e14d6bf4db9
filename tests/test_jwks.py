"""The verifier with an identity provider's JWKS, served over real HTTP on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import authorizer
from shared import tokens
from shared.config import ConfigError
from tests import tokenkit
from tests.rawkit import RawServer, answer, trickle
from tests.tokenkit import AUDIENCE, ISSUER, JWKSServer, claims, public_jwk, sign

FETCH_TIMEOUT_MS = 200


@pytest.fixture(scope="module")
def rsa_old():
    return tokenkit.rsa_key()


@pytest.fixture(scope="module")
def rsa_new():
    return tokenkit.rsa_key()


@pytest.fixture(scope="module")
def ec_key():
    return tokenkit.ec_key()


@pytest.fixture
def provider(configure, rsa_old, ec_key):
    """A JWKS with one RSA and one EC key, and the verifier pointed at it."""
    with JWKSServer([public_jwk(rsa_old, "rsa-1", "RS256"), public_jwk(ec_key, "ec-1", "ES256")]) as server:
        configure(
            JWT_JWKS_URL=server.url,
            JWT_ISSUER=ISSUER,
            JWT_AUDIENCE=AUDIENCE,
            JWT_ALGORITHMS="RS256,ES256",
            JWT_JWKS_TIMEOUT_MS=str(FETCH_TIMEOUT_MS),
            JWT_JWKS_REFRESH_SECONDS="3600",
        )
        yield server


def provider_claims(**overrides) -> dict:
    return claims(iss=ISSUER, aud=AUDIENCE, **overrides)


def refusal(authorization: str) -> str:
    with pytest.raises(tokens.InvalidToken) as refused:
        tokens.verify_authorization(authorization)
    return str(refused.value)


def forged_hs256(payload: dict, secret: bytes, kid: str) -> str:
    """What an attacker signs with a public key used as an HMAC secret (pyjwt itself refuses to)."""
    header, body = tokenkit.b64url({"alg": "HS256", "typ": "JWT", "kid": kid}), tokenkit.b64url(payload)
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{tokenkit.b64url(signature)}"


def test_a_valid_rs256_token_verifies_against_the_jwks(provider, rsa_old):
    token = sign(provider_claims(), rsa_old, "RS256", kid="rsa-1")
    assert tokens.verify_authorization(f"Bearer {token}")["sub"] == "alice"


def test_a_valid_es256_token_verifies_against_the_jwks(provider, ec_key):
    token = sign(provider_claims(), ec_key, "ES256", kid="ec-1")
    assert tokens.verify_authorization(f"Bearer {token}")["sub"] == "alice"


def test_keys_are_fetched_on_first_use_then_cached(provider, rsa_old):
    tokens.verifier()
    assert provider.requests == 0
    for _ in range(3):
        tokens.verify_authorization(f"Bearer {sign(provider_claims(), rsa_old, 'RS256', kid='rsa-1')}")
    assert provider.requests == 1


def test_a_rotated_key_is_fetched_once_then_cached(provider, configure, rsa_old, rsa_new):
    configure(JWT_JWKS_URL=provider.url, JWT_ISSUER=ISSUER, JWT_AUDIENCE=AUDIENCE, JWT_JWKS_REFRESH_SECONDS="0")
    tokens.verify_authorization(f"Bearer {sign(provider_claims(), rsa_old, 'RS256', kid='rsa-1')}")
    provider.keys = [public_jwk(rsa_old, "rsa-1", "RS256"), public_jwk(rsa_new, "rsa-2", "RS256")]
    rotated = sign(provider_claims(), rsa_new, "RS256", kid="rsa-2")
    for _ in range(3):
        assert tokens.verify_authorization(f"Bearer {rotated}")["sub"] == "alice"
    assert provider.requests == 2


def test_unknown_key_ids_are_refused_without_refetching_within_the_refresh_interval(provider, rsa_old, rsa_new):
    tokens.verify_authorization(f"Bearer {sign(provider_claims(), rsa_old, 'RS256', kid='rsa-1')}")
    for attempt in range(5):
        token = sign(provider_claims(), rsa_new, "RS256", kid=f"made-up-{attempt}")
        assert refusal(f"Bearer {token}") == "the token's signing key is unknown"
    assert provider.requests == 1


def test_a_token_without_a_key_id_is_refused(provider, rsa_old):
    assert refusal(f"Bearer {sign(provider_claims(), rsa_old, 'RS256')}") == "the token names no signing key (kid)"


def test_a_token_signed_by_a_key_outside_the_jwks_is_refused(provider, rsa_new):
    token = sign(provider_claims(), rsa_new, "RS256", kid="rsa-1")
    assert refusal(f"Bearer {token}") == "the token's signature does not verify"


def test_the_hs256_rsa_confusion_attack_is_refused(provider, rsa_old):
    public_pem = rsa_old.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    assert refusal(f"Bearer {forged_hs256(provider_claims(), public_pem, 'rsa-1')}").startswith("the token's algorithm")


def test_hmac_algorithms_cannot_be_allowed_next_to_a_jwks(configure, provider):
    configure(JWT_JWKS_URL=provider.url, JWT_ALGORITHMS="RS256,HS256")
    with pytest.raises(ConfigError, match="JWT_ALGORITHMS"):
        tokens.verifier()


def test_a_key_is_used_only_with_its_own_algorithm(provider, rsa_old, ec_key):
    es256_naming_the_rsa_key = sign(provider_claims(), ec_key, "ES256", kid="rsa-1")
    assert refusal(f"Bearer {es256_naming_the_rsa_key}") == "the token's algorithm is not accepted for this key"


def test_an_algorithm_outside_the_allowlist_is_refused(provider, configure, ec_key):
    configure(JWT_JWKS_URL=provider.url, JWT_ISSUER=ISSUER, JWT_AUDIENCE=AUDIENCE, JWT_ALGORITHMS="RS256")
    token = sign(provider_claims(), ec_key, "ES256", kid="ec-1")
    assert refusal(f"Bearer {token}") == "the token's algorithm is not accepted for this key"


def test_a_symmetric_key_published_in_the_jwks_is_ignored(configure, rsa_old):
    shared_secret = b"s" * 32
    symmetric = {"kty": "oct", "kid": "oct-1", "k": tokenkit.b64url(shared_secret), "alg": "HS256"}
    with JWKSServer([symmetric, public_jwk(rsa_old, "rsa-1", "RS256")]) as server:
        configure(JWT_JWKS_URL=server.url, JWT_ISSUER=ISSUER, JWT_AUDIENCE=AUDIENCE)
        token = forged_hs256(provider_claims(), shared_secret, "oct-1")
        assert refusal(f"Bearer {token}") == "the token's signing key is unknown"


def test_claims_are_checked_as_strictly_as_with_a_secret(provider, rsa_old):
    expired = sign(provider_claims(exp=int(time.time()) - 120), rsa_old, "RS256", kid="rsa-1")
    other_issuer = sign(claims(iss="https://evil.example.com/", aud=AUDIENCE), rsa_old, "RS256", kid="rsa-1")
    assert refusal(f"Bearer {expired}") == "the token has expired"
    assert refusal(f"Bearer {other_issuer}") == "the token's issuer is not accepted"


def test_an_unreachable_jwks_fails_fast_and_allows_nothing(configure, rsa_old):
    url = f"http://127.0.0.1:{tokenkit.closed_port()}/jwks.json"
    configure(JWT_JWKS_URL=url, JWT_ISSUER=ISSUER, JWT_AUDIENCE=AUDIENCE, JWT_JWKS_TIMEOUT_MS=str(FETCH_TIMEOUT_MS))
    token = sign(provider_claims(), rsa_old, "RS256", kid="rsa-1")
    started = time.monotonic()
    with pytest.raises(tokens.KeysUnavailable):
        tokens.verify_authorization(f"Bearer {token}")
    with pytest.raises(authorizer.AuthorizerFailure):
        authorizer.lambda_handler(
            {
                "type": "TOKEN",
                "authorizationToken": f"Bearer {token}",
                "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:api/dev/GET/me",
            },
            None,
        )
    assert time.monotonic() - started < 5


def test_a_slow_jwks_times_out_and_allows_nothing(configure, rsa_old):
    with JWKSServer([public_jwk(rsa_old, "rsa-1", "RS256")], delay=10) as slow:
        configure(
            JWT_JWKS_URL=slow.url, JWT_ISSUER=ISSUER, JWT_AUDIENCE=AUDIENCE, JWT_JWKS_TIMEOUT_MS=str(FETCH_TIMEOUT_MS)
        )
        token = sign(provider_claims(), rsa_old, "RS256", kid="rsa-1")
        event = {
            "version": "2.0",
            "type": "REQUEST",
            "headers": {"authorization": f"Bearer {token}"},
            "routeArn": "arn:aws:execute-api:eu-west-1:123456789012:api/$default/GET/me",
        }
        started = time.monotonic()
        with pytest.raises(authorizer.AuthorizerFailure):
            authorizer.lambda_handler(event, None)
        with pytest.raises(authorizer.AuthorizerFailure):
            authorizer.lambda_handler(event, None)
        assert time.monotonic() - started < 5
        assert slow.requests == 1


def test_cached_keys_outlive_a_provider_outage_and_expire_once_it_is_back(rsa_old, rsa_new):
    now = [0.0]
    with JWKSServer([public_jwk(rsa_old, "rsa-1", "RS256")]) as server:
        keys = tokens.JWKSet(server.url, 0.2, refresh_seconds=30, cache_seconds=3600, clock=lambda: now[0])
        first = keys.key_for("rsa-1")
        url = server.url
    keys.url, now[0] = url, 4000.0  # past the cache age, with the provider gone
    assert keys.key_for("rsa-1") is first
    with JWKSServer([public_jwk(rsa_new, "rsa-2", "RS256")]) as server:
        keys.url, now[0] = server.url, 4100.0
        assert keys.key_for("rsa-2").key_id == "rsa-2"
        with pytest.raises(tokens.InvalidToken):
            keys.key_for("rsa-1")


def configure_provider(configure, url: str, **extra: str) -> None:
    configure(JWT_JWKS_URL=url, JWT_ISSUER=ISSUER, JWT_AUDIENCE=AUDIENCE, **extra)


# Redirects are answers, never followed


@pytest.mark.parametrize("keys_host", ["127.0.0.2", "127.0.0.1"])  # a host the http:// rule refuses, and one it allows
def test_a_redirect_is_not_followed_even_to_a_server_holding_the_keys(configure, rsa_old, keys_host):
    with JWKSServer([public_jwk(rsa_old, "rsa-1", "RS256")], host=keys_host) as keys:
        with RawServer(
            answer("302 Found", body=b"", headers=f"Location: {keys.url}\r\nContent-Length: 0\r\n".encode())
        ) as redirect:
            configure_provider(configure, redirect.url + "/.well-known/jwks.json")
            token = sign(provider_claims(), rsa_old, "RS256", kid="rsa-1")
            with pytest.raises(tokens.KeysUnavailable, match="answered 302"):
                tokens.verify_authorization(f"Bearer {token}")
        assert keys.requests == 0


# One deadline for the whole fetch


@pytest.mark.parametrize("phase", ["status and headers", "body"])
def test_a_trickling_jwks_gives_up_at_the_fetch_deadline(configure, rsa_old, phase):
    document = json.dumps({"keys": [public_jwk(rsa_old, "rsa-1", "RS256")]}).encode()
    head = b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 400 + b"\r\n"
    reply = (
        trickle(head, pause=0.1)
        if phase == "status and headers"  # a byte every 0.1 s: 40 s in all
        else trickle(answer(body=document[:400] + b" " * 400), pause=0.1, size=10)
    )
    with RawServer(reply) as slow:
        configure_provider(configure, slow.url + "/jwks.json", JWT_JWKS_TIMEOUT_MS="500")
        token = sign(provider_claims(), rsa_old, "RS256", kid="rsa-1")
        started = time.monotonic()
        with pytest.raises(tokens.KeysUnavailable, match="TimeoutError"):
            tokens.verify_authorization(f"Bearer {token}")
        # Generous against a 500 ms setting on a loaded machine; a per-read timeout took 16 s to 40 s here.
        assert time.monotonic() - started < 5


# Entries that cannot be loaded are skipped, whatever they raise


def odd_entries(good: dict) -> list[dict]:
    return [
        {**good, "kid": "alg-none", "alg": "none"},
        {**good, "kid": "alg-list", "alg": ["RS256"]},
        {**good, "kid": "alg-object", "alg": {"name": "RS256"}},
        {**good, "kid": "alg-hmac", "alg": "HS256"},
        {**good, "kid": "n-number", "n": 5},
        {**good, "kid": "n-missing", "n": None},
        {**good, "kid": "e-garbage", "e": "!!!"},
        {"kty": "EC", "kid": "ec-curve", "crv": "P-999", "x": "AA", "y": "AA"},
        {"kty": "EC", "kid": "ec-list", "crv": ["P-256"], "x": "AA", "y": "AA"},
    ]


def skipped_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if "skipped" in line]


def test_at_a_cold_start_entries_that_cannot_be_loaded_are_skipped_and_the_rest_verify(configure, rsa_old, capsys):
    good = public_jwk(rsa_old, "rsa-1", "RS256")
    with JWKSServer([*odd_entries(good), good]) as server:
        configure_provider(configure, server.url)
        assert tokens.verify_authorization(f"Bearer {sign(provider_claims(), rsa_old, 'RS256', kid='rsa-1')}")
        assert refusal(f"Bearer {sign(provider_claims(), rsa_old, 'RS256', kid='alg-none')}") == (
            "the token's signing key is unknown"
        )
    (line,) = skipped_lines(capsys.readouterr().out)
    assert set(line["kids"]) == {entry["kid"] for entry in odd_entries(good)}


def test_when_warm_a_new_odd_entry_is_skipped_logged_once_and_a_random_kid_is_refused(configure, rsa_old, capsys):
    good = public_jwk(rsa_old, "rsa-1", "RS256")
    with JWKSServer([good]) as server:
        configure_provider(configure, server.url, JWT_JWKS_REFRESH_SECONDS="0")
        token = f"Bearer {sign(provider_claims(), rsa_old, 'RS256', kid='rsa-1')}"
        assert tokens.verify_authorization(token)["sub"] == "alice"
        server.keys = [{**good, "kid": "alg-none", "alg": "none"}, good]
        for kid in ("random-1", "random-2"):  # each unknown kid fetches again (no refresh interval)
            assert refusal(f"Bearer {sign(provider_claims(), rsa_old, 'RS256', kid=kid)}") == (
                "the token's signing key is unknown"
            )
        assert tokens.verify_authorization(token)["sub"] == "alice"
        assert server.requests == 3
    (line,) = skipped_lines(capsys.readouterr().out)
    assert line["kids"] == ["alg-none"]


@pytest.mark.parametrize("kid", [["rsa-1"], {"id": "rsa-1"}, 1, True], ids=repr)
def test_a_kid_that_is_not_a_string_is_refused(provider, kid):
    token = forged_hs256(provider_claims(), b"any secret", kid)  # PyJWT would not sign such a header
    assert refusal(f"Bearer {token}") in ("the token names no signing key (kid)", "the token is malformed")
