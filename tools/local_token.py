"""Mint a token signed with the local development secret, for local runs only.

    make -s token SUB=alice [SCOPE="profile:read profile:write"] [TTL=3600]
    python -m tools.local_token --sub alice [--scope ...] [--ttl ...]

Prints only the token. It carries the local issuer and audience, so the
authorizer and ``LOCAL_AUTH`` accept it when ``JWT_SECRET`` and
``JWT_JWKS_URL`` are unset and ``STAGE`` is ``local``; any other stage refuses
to mint it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jwt

from shared import tokens
from shared.config import ConfigError, settings

MAX_TTL_SECONDS = 7 * 24 * 3600


def mint_local_token(sub: str, scope: str = "", ttl: int = 3600) -> str:
    """An HS256 token for ``sub`` valid ``ttl`` seconds, signed with the local development secret.

    Raises ConfigError outside ``STAGE=local`` and ValueError for an unusable ``sub`` or ``ttl``.
    """
    stage = settings().stage
    if stage != "local":
        raise ConfigError(f"local tokens are for STAGE=local only, but STAGE is {stage!r}")
    if not sub or sub != sub.strip() or len(sub) > 255:
        raise ValueError("sub must be 1 to 255 characters without surrounding spaces")
    if not 1 <= ttl <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be between 1 and {MAX_TTL_SECONDS} seconds")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print a token signed with the local development secret.")
    parser.add_argument("--sub", default="alice", help="the token's subject (default: alice)")
    parser.add_argument("--scope", default="", help='space-separated scopes, such as "profile:read profile:write"')
    parser.add_argument("--ttl", type=int, default=3600, help="seconds until it expires (default: 3600)")
    args = parser.parse_args(argv)
    try:
        print(mint_local_token(args.sub, args.scope, args.ttl))
    except (ConfigError, ValueError) as exc:
        print(f"token: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
