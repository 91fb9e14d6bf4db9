"""CORS: preflight answers and response headers for allowlisted origins only.

Origins come from ``CORS_ALLOW_ORIGINS``. A request from any other origin gets
no CORS headers, so the browser keeps the response from the page.
"""

from __future__ import annotations

from shared import errors
from shared.config import Settings
from shared.responses import Response, empty_response

ALLOWED_HEADERS = "authorization, content-type, if-match, if-none-match"
EXPOSED_HEADERS = "etag, retry-after"
PREFLIGHT_MAX_AGE_SECONDS = "600"


def allowed_origin(origin: str, config: Settings) -> str | None:
    """The value for ``Access-Control-Allow-Origin``, or None when ``origin`` is not allowed."""
    if not origin or not config.cors_allow_origins:
        return None
    if origin in config.cors_allow_origins:
        return origin
    if "*" in config.cors_allow_origins:
        return "*"
    return None


def add_response_headers(response_headers: dict[str, str], request_headers: dict[str, str], config: Settings) -> None:
    """Add the CORS headers an actual (non-preflight) response needs."""
    if not config.cors_allow_origins:
        return
    response_headers["vary"] = "origin"
    origin = allowed_origin(request_headers.get("origin", ""), config)
    if origin is None:
        return
    response_headers.setdefault("access-control-allow-origin", origin)
    response_headers.setdefault("access-control-expose-headers", EXPOSED_HEADERS)
    if config.cors_allow_credentials:
        response_headers.setdefault("access-control-allow-credentials", "true")


def preflight_response(request_headers: dict[str, str], allowed_methods: list[str], config: Settings) -> Response:
    """The answer to ``OPTIONS`` on a known path.

    A plain OPTIONS (no ``Origin``) lists the methods in ``Allow``. A CORS
    preflight from an allowlisted origin for an allowed method gets 204 with
    the access-control headers; any other preflight gets a 403 problem.
    """
    allow = ", ".join(allowed_methods)
    origin = request_headers.get("origin", "")
    requested_method = request_headers.get("access-control-request-method", "").upper()
    if not origin or not requested_method:
        return empty_response(204, {"allow": allow})
    allowed = allowed_origin(origin, config)
    if allowed is None:
        raise errors.Forbidden(f"origin {origin} is not allowed")
    if requested_method not in allowed_methods:
        raise errors.Forbidden(f"method {requested_method} is not allowed here")
    headers = {
        "allow": allow,
        "access-control-allow-origin": allowed,
        "access-control-allow-methods": allow,
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": PREFLIGHT_MAX_AGE_SECONDS,
    }
    return empty_response(204, headers)
