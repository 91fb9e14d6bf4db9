"""API Gateway proxy events for tests, in the shapes API Gateway sends them."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlencode

ALICE = {"sub": "alice", "email": "alice@example.com", "name": "Alice Liddell", "scope": "profile:read profile:write"}


def rest_authorizer(claims: dict = ALICE) -> dict:
    """``requestContext.authorizer`` of a REST API Lambda authorizer: flat, values as strings."""
    context = {key: str(value) for key, value in claims.items()}
    return {"principalId": claims["sub"], **context, "integrationLatency": 12}


def cognito_authorizer(claims: dict = ALICE) -> dict:
    """``requestContext.authorizer`` of a REST API Cognito user pool authorizer."""
    return {"claims": dict(claims)}


def http_lambda_authorizer(claims: dict = ALICE) -> dict:
    """``requestContext.authorizer`` of an HTTP API Lambda authorizer (payload 2.0)."""
    return {"lambda": dict(claims)}


def http_jwt_authorizer(claims: dict = ALICE) -> dict:
    """``requestContext.authorizer`` of an HTTP API JWT authorizer (which lets no token without exp through)."""
    scopes = claims.get("scope", "").split() or None
    now = int(time.time())
    claims = {"iat": now, "exp": now + 600, **claims}
    return {"jwt": {"claims": {key: str(value) for key, value in claims.items()}, "scopes": scopes}}


def _body(body, base64_encoded: bool) -> str | None:
    if body is None:
        return None
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    if base64_encoded:
        return base64.b64encode(raw if isinstance(raw, bytes) else raw.encode()).decode()
    return raw


def rest_event(
    method: str,
    path: str,
    *,
    headers: dict | None = None,
    query: dict | None = None,
    body=None,
    authorizer: dict | None = None,
    base64_encoded: bool = False,
) -> dict:
    """A REST API (payload 1.0) proxy event. ``query`` maps names to a value or a list of values."""
    query = query or {}
    multi_query = {name: value if isinstance(value, list) else [value] for name, value in query.items()}
    headers = dict(headers or {})
    if body is not None and not base64_encoded and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    context = {
        "requestId": "req-1",
        "stage": "dev",
        "httpMethod": method,
        "resourcePath": path,
        "identity": {"sourceIp": "203.0.113.10"},
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {name: [value] for name, value in headers.items()} or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": None,
        "requestContext": context,
        "body": _body(body, base64_encoded),
        "isBase64Encoded": base64_encoded,
    }


def http_event(
    method: str,
    path: str,
    *,
    headers: dict | None = None,
    query: dict | None = None,
    body=None,
    authorizer: dict | None = None,
    base64_encoded: bool = False,
    stage: str = "$default",
) -> dict:
    """An HTTP API (payload 2.0) proxy event."""
    pairs = [
        (name, value)
        for name, values in (query or {}).items()
        for value in (values if isinstance(values, list) else [values])
    ]
    headers = {name.lower(): value for name, value in (headers or {}).items()}
    if body is not None and not base64_encoded:
        headers.setdefault("content-type", "application/json")
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    context = {
        "requestId": "req-2",
        "stage": stage,
        "routeKey": "$default",
        "http": {"method": method, "path": raw_path, "sourceIp": "203.0.113.10"},
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": urlencode(pairs),
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": base64_encoded,
    }
    if body is not None:
        event["body"] = _body(body, base64_encoded)
    return event


def parsed(result: dict) -> tuple[int, dict, object]:
    """Status, headers and decoded JSON body (None when empty) of a proxy result."""
    body = result["body"]
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return result["statusCode"], result["headers"], json.loads(body) if body else None
