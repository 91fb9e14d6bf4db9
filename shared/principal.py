"""Who is calling: read from wherever API Gateway put the authorizer's result.

API Gateway places the caller's identity in one of four shapes of
``requestContext.authorizer``:

=================================  ==========================================
REST API, Lambda authorizer        ``authorizer.<key>`` (values are strings)
REST API, Cognito authorizer       ``authorizer.claims.<claim>``
HTTP API, Lambda authorizer        ``authorizer.lambda.<key>``
HTTP API, JWT authorizer           ``authorizer.jwt.claims.<claim>``
=================================  ==========================================
"""

from __future__ import annotations

import os
from collections import namedtuple
from functools import cache

from shared import errors
from shared.config import settings

MAX_SUB_LENGTH = 255
# A sub names the caller in /users/{user_id}: it must fit in one path segment, whatever API Gateway decodes.
PATH_SEGMENT_BREAKERS = frozenset("/?#")


def sub_problem(sub) -> str | None:
    """Why ``sub`` cannot name a caller, or None when it can.

    It must be a string of 1 to 255 printable characters that fits in one path
    segment of ``/users/{user_id}``: no ``/``, ``?`` or ``#`` (an HTTP API
    decodes the path before routing, so not even percent-encoded), and not ``.``
    or ``..`` (clients remove such segments from URLs).
    """
    if not isinstance(sub, str) or not sub.strip() or len(sub) > MAX_SUB_LENGTH:
        return f"must be a non-empty string of at most {MAX_SUB_LENGTH} characters"
    if not sub.isprintable() or not PATH_SEGMENT_BREAKERS.isdisjoint(sub) or sub in (".", ".."):
        return "must fit in one URL path segment: printable, without /, ? or #, and not . or .."
    return None


# A namedtuple rather than a frozen dataclass, which costs more of a cold start to create.
class Principal(namedtuple("Principal", "sub email name scopes", defaults=("", "", ()))):
    """The authenticated caller: the token's subject (str) and the claims handlers use.

    ``email`` and ``name`` are strings ("" when absent), ``scopes`` a tuple of strings.
    """

    __slots__ = ()

    @classmethod
    def from_claims(cls, claims: dict) -> Principal | None:
        """The principal in a flat mapping of claims, or None without a usable ``sub``."""
        sub = claims.get("sub") or claims.get("principalId")
        if sub_problem(sub) is not None:
            return None
        return cls(
            sub=sub,
            email=_string(claims.get("email")),
            name=_string(claims.get("name")),
            scopes=_scopes(claims.get("scope", claims.get("scopes"))),
        )


def _string(value) -> str:
    return value if isinstance(value, str) else ""


def _scopes(value) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(scope for scope in value if isinstance(scope, str))
    if isinstance(value, str):
        return tuple(value.strip("[]").split())
    return ()


def _claims_in(authorizer: dict) -> dict:
    jwt = authorizer.get("jwt")
    if isinstance(jwt, dict) and isinstance(jwt.get("claims"), dict):
        claims = dict(jwt["claims"])
        if jwt.get("scopes") and "scope" not in claims:
            claims["scopes"] = jwt["scopes"]
        return claims
    for key in ("lambda", "claims"):
        if isinstance(authorizer.get(key), dict):
            return authorizer[key]
    return authorizer


@cache
def max_lifetime_seconds() -> int:
    """``JWT_MAX_LIFETIME_SECONDS`` (0: any lifetime), read once; the HTTP API's JWT authorizer does not check it."""
    value = os.environ.get("JWT_MAX_LIFETIME_SECONDS", "0").strip() or "0"
    return int(value) if value.isdigit() else 0


def jwt_authorizer_problem(claims: dict) -> str | None:
    """What the HTTP API's JWT authorizer let through that this API refuses, or None.

    API Gateway checks the signature, ``iss``, ``aud``, ``exp``, ``nbf`` and
    ``iat`` when present; it hands the claims over as strings. Left to check
    here: ``iat`` present and a whole number of seconds, and ``exp - iat``
    within ``JWT_MAX_LIFETIME_SECONDS``.
    """
    issued, expires = claims.get("iat"), claims.get("exp")
    if not (isinstance(issued, str) and issued.isdigit() and isinstance(expires, str) and expires.isdigit()):
        return "the token needs iat and exp claims in whole seconds"
    limit = max_lifetime_seconds()
    if limit and int(expires) - int(issued) > limit:
        return f"the token lives longer (exp - iat) than the {limit} s this API accepts"
    return None


def principal_from_event(request_context: dict, headers: dict[str, str]) -> Principal:
    """The caller named by ``requestContext.authorizer``; raise 401 when there is none.

    With ``LOCAL_AUTH=true`` (local runs only) and no authorizer result in the
    event, the bearer token in ``headers`` is verified in-process with the same
    verifier the authorizer function uses.
    """
    authorizer = request_context.get("authorizer")
    principal = Principal.from_claims(_claims_in(authorizer)) if isinstance(authorizer, dict) else None
    if principal is not None and isinstance(authorizer.get("jwt"), dict):
        problem = jwt_authorizer_problem(authorizer["jwt"]["claims"])
        if problem is not None:
            raise errors.Unauthorized(problem)
    if principal is not None:
        return principal
    if settings().local_auth and "authorization" in headers:
        return _principal_from_bearer(headers["authorization"])
    raise errors.Unauthorized("this route needs an authenticated caller")


def _principal_from_bearer(authorization: str) -> Principal:
    from shared import tokens

    try:
        claims = tokens.verify_authorization(authorization)
    except tokens.InvalidToken as exc:
        raise errors.Unauthorized(f"the bearer token was refused: {exc}") from None
    principal = Principal.from_claims(claims)
    if principal is None:
        raise errors.Unauthorized("the bearer token has no usable sub claim")
    return principal
