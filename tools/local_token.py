"""Mint a token signed with the local development secret, for local runs only.

    make -s token SUB=alice [SCOPE="profile:read profile:write"] [TTL=3600]
    python -m tools.local_token --sub alice [--scope ...] [--ttl ...]

Prints only the token on stdout. It carries the local issuer and audience, so
the authorizer and ``LOCAL_AUTH`` accept it when ``JWT_SECRET`` and
``JWT_JWKS_URL`` are unset and ``STAGE`` is ``local``; any other stage refuses
to mint it. When this environment holds settings that would make the
authorizer of ``make serve`` or ``make invoke`` (which run with it) refuse the
token, each gets a warning on stderr saying what will happen. A bad SUB, TTL
or SCOPE is one line on stderr and exit status 2.
"""

from __future__ import annotations

import os
import re
import sys
import time

import jwt

from shared import tokens
from shared.config import ConfigError
from shared.principal import sub_problem
from tools import cli

MAX_TTL_SECONDS = 7 * 24 * 3600
# An RFC 6749 scope token: printable ASCII but space, " and \.
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
REFUSES = "the authorizer of `make serve` or `make invoke` run from this environment will refuse this token (401)"


def mint_local_token(sub: str, scope: str = "", ttl: int = 3600) -> str:
    """An HS256 token for ``sub`` valid ``ttl`` seconds, signed with the local development secret.

    Raises ConfigError outside ``STAGE=local`` (or for a bad ``JWT_*`` setting) and
    ValueError for an unusable ``sub``, ``scope`` or ``ttl``.
    """
    stage = tokens.stage_of(os.environ)
    if stage != "local":
        raise ConfigError(f"local tokens are for STAGE=local only, but STAGE is {stage!r}")
    problem = sub_problem(sub)
    if problem is not None or sub != sub.strip():
        raise ValueError(f"SUB {problem or 'must not start or end with spaces'}, got {sub!r}")
    scope = " ".join(scope.split())
    if not all(SCOPE_TOKEN.match(name) for name in scope.split()):
        raise ValueError(f'SCOPE must be space-separated scope names of printable ASCII but " and \\, got {scope!r}')
    if not 1 <= ttl <= MAX_TTL_SECONDS:
        raise ValueError(f"TTL must be between 1 and {MAX_TTL_SECONDS} seconds, got {ttl}")
    configured = tokens.load(os.environ, stage)
    now = int(time.time())
    claims = {"sub": sub, "email": f"{sub}@example.com", "name": sub, "iat": now, "exp": now + ttl}
    if scope:
        claims["scope"] = scope
    if configured.issuer:
        claims["iss"] = configured.issuer
    if configured.audience:
        claims["aud"] = configured.audience
    return jwt.encode(claims, tokens.LOCAL_SECRET, algorithm="HS256")


def environment_warnings(environ, ttl: int) -> list[str]:
    """What this environment's JWT_* settings will do to a local token, one sentence each."""

    def value(name: str) -> str:
        return environ.get(name, "").strip()

    warnings = []
    if value("JWT_SECRET"):
        warnings.append(
            f"JWT_SECRET is set, so the authorizer verifies with it, not with the local development "
            f"secret: {REFUSES}; unset JWT_SECRET to use local tokens"
        )
    if value("JWT_JWKS_URL"):
        warnings.append(
            f"JWT_JWKS_URL is set, so the authorizer verifies with the keys at {value('JWT_JWKS_URL')}: "
            f"{REFUSES}; unset JWT_JWKS_URL to use local tokens"
        )
    if warnings:
        return warnings
    algorithms = [name.strip() for name in value("JWT_ALGORITHMS").split(",") if name.strip()]
    if algorithms and "HS256" not in algorithms:
        warnings.append(
            f"JWT_ALGORITHMS={value('JWT_ALGORITHMS')} leaves out HS256, the local tokens' algorithm: {REFUSES}"
        )
    for name, claim, local in (
        ("JWT_ISSUER", "iss", tokens.LOCAL_ISSUER),
        ("JWT_AUDIENCE", "aud", tokens.LOCAL_AUDIENCE),
    ):
        if value(name) and value(name) != local:
            warnings.append(
                f"{name} is set, so this token carries {claim}={value(name)} instead of {local}: an "
                f"authorizer run without the same {name} (another shell, say) refuses it (401)"
            )
    limit = value("JWT_MAX_LIFETIME_SECONDS")
    if limit.isdigit() and 0 < int(limit) < ttl:  # 0: no limit
        warnings.append(f"JWT_MAX_LIFETIME_SECONDS={limit} is less than TTL={ttl}: {REFUSES}; use TTL={limit} or less")
    return warnings


def _ttl(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"TTL must be a whole number of seconds, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="make token", description="Print a token signed with the local development secret.")
    parser.add_argument("--sub", default="alice", help="SUB: the token's subject (default: alice)")
    parser.add_argument("--scope", default="", help='SCOPE: space-separated scopes, such as "profile:read"')
    parser.add_argument("--ttl", default="3600", help="TTL: seconds until it expires (default: 3600)")
    args = parser.parse_args(argv)
    try:
        ttl = _ttl(args.ttl.strip())
        token = mint_local_token(args.sub, args.scope, ttl)
    except (ConfigError, ValueError) as exc:
        raise cli.CommandError(str(exc)) from None
    for warning in environment_warnings(os.environ, ttl):
        print(f"make token: warning: {warning}", file=sys.stderr)
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main, "make token"))
