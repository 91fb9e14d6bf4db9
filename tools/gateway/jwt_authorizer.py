"""API Gateway's JWT authorizer for HTTP APIs, run by the local gateway itself (no function runs for it).

As "Control access to HTTP APIs with JWT authorizers" describes it: the token
alone or after ``Bearer``; RSA-signed, with the key of its ``kid`` from the
``jwks_uri`` of ``<issuer>/.well-known/openid-configuration``; then ``iss``,
``aud`` (``client_id`` when there is no ``aud``), ``exp``, ``nbf`` and ``iat``.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass

JWKS_CACHE_SECONDS = 2 * 3600  # API Gateway may cache an issuer's public keys for two hours
RSA_ALGORITHMS = ("RS256", "RS384", "RS512")


@dataclass(frozen=True)
class JwtConfiguration:
    name: str
    issuer: str
    audience: tuple[str, ...]


class Refused(Exception):
    """The JWT authorizer refuses the token; the message is its ``error_description``."""


class JwtAuthorizer:
    """Validates a JWT as API Gateway documents it for HTTP APIs, against the issuer's published keys.

    The keys come from the ``jwks_uri`` of ``<issuer>/.well-known/openid-configuration``,
    kept :data:`JWKS_CACHE_SECONDS` and fetched again for an unknown ``kid``.
    """

    def __init__(self, configuration: JwtConfiguration, clock=time.time, fetch=None) -> None:
        self.configuration = configuration
        self.clock = clock
        self.fetch = fetch or _fetch_json
        self.keys: dict[str, object] = {}
        self.fetched_at = float("-inf")

    def _signing_keys(self, kid: str, force: bool) -> dict:
        import jwt

        if force or self.clock() - self.fetched_at > JWKS_CACHE_SECONDS:
            discovery = self.fetch(self.configuration.issuer.rstrip("/") + "/.well-known/openid-configuration")
            document = self.fetch(discovery["jwks_uri"])
            self.keys = {}
            for entry in document.get("keys", []):
                if entry.get("kty") == "RSA" and entry.get("kid"):
                    self.keys[entry["kid"]] = jwt.PyJWK(entry, algorithm=entry.get("alg") or "RS256")
            self.fetched_at = self.clock()
        return self.keys

    def claims(self, authorization: str | None) -> dict:
        """The token's claims when API Gateway would accept it; :class:`Refused` saying why otherwise."""
        import jwt

        token = (authorization or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Refused("the token could not be decoded") from None
        if header.get("alg") not in RSA_ALGORITHMS:
            raise Refused("the token's algorithm is not supported (RSA only)")
        kid = header.get("kid") or ""
        keys = self._signing_keys(kid, force=False)
        if kid not in keys:
            keys = self._signing_keys(kid, force=True)
        if kid not in keys:
            raise Refused("the token's kid does not match a key of the issuer")
        try:
            claims = jwt.decode(
                token,
                keys[kid],
                algorithms=[header["alg"]],
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError:
            raise Refused("the token's signature is invalid") from None
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: dict) -> None:
        now = self.clock()
        if claims.get("iss") != self.configuration.issuer:
            raise Refused("the token does not have a valid issuer")
        audience = claims.get("aud", claims.get("client_id"))
        audiences = audience if isinstance(audience, list) else [audience]
        if not set(audiences) & set(self.configuration.audience):
            raise Refused("the token does not have a valid audience")
        for claim, fails in (
            ("exp", lambda value: value <= now),
            ("nbf", lambda value: value > now),
            ("iat", lambda value: value > now),
        ):
            value = claims.get(claim)
            if value is None and claim != "exp":
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool) or fails(value):
                raise Refused(f"the token's {claim} claim is not valid" if claim != "exp" else "the token has expired")


def _fetch_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:  # the issuer the template names
        return json.loads(response.read())


def claim_strings(claims: dict) -> dict[str, str]:
    """Claims as an HTTP API hands them to the integration: every value a string, arrays as ``[a b]``."""

    def text(value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return "[" + " ".join(text(item) for item in value) + "]"
        if isinstance(value, dict):
            return json.dumps(value, separators=(",", ":"))
        return str(value)

    return {name: text(value) for name, value in claims.items()}
