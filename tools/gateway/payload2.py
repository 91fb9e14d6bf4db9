"""HTTP requests as payload format 2.0 events, and 2.0 results as HTTP responses, as an HTTP API makes them.

Header names lower-case, repeated headers and query strings joined with commas,
cookies in their own list, no stage in the path; a result without ``statusCode``
is a JSON body ("Create AWS Lambda proxy integrations for HTTP APIs").

The path is percent-decoded once before routing, and ``rawPath`` and
``requestContext.http.path`` carry it decoded; ``pathParameters`` are decoded
once more; ``rawQueryString`` keeps its encoding ("Create routes for HTTP APIs":
API Gateway decodes URL-encoded request parameters; live captures in
middleapi/standard-server#93 and hotsock/voker#8).
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, fields
from urllib.parse import unquote

from tools.gateway.api import Api, Route
from tools.gateway.proxy import FRAMING_HEADERS, HttpRequest, HttpResponse, MalformedResult, _header_value

DEFAULT_STAGE = "$default"
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/problem+json",
    "application/merge-patch+json",
)
RESULT_KEYS = {"statusCode", "headers", "body", "isBase64Encoded", "cookies"}


@dataclass
class DecodedPathRequest(HttpRequest):
    """A request as an HTTP API routes it: ``path`` percent-decoded once (as UTF-8), the query string untouched."""

    @property
    def path(self) -> str:
        return unquote(super().path)


def decoded_path(request: HttpRequest) -> DecodedPathRequest:
    """``request`` with its path decoded, as an HTTP API matches routes and fills ``rawPath``."""
    return DecodedPathRequest(**{field.name: getattr(request, field.name) for field in fields(request)})


def _joined(pairs: list[tuple[str, str]], lower: bool) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower() if lower else name
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def _is_text(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type.startswith(TEXT_TYPES) or media_type.endswith(("+json", "+xml"))


def route_key(route: Route) -> str:
    return f"{route.method} {route.path}"


def route_arn(api: Api, request: HttpRequest) -> str:
    return (
        f"arn:aws:execute-api:{api.region}:{api.account_id}:{api.api_id}/{DEFAULT_STAGE}/{request.method}{request.path}"
    )


def request_context(request: HttpRequest, api: Api, route: Route, request_id: str, now: float) -> dict:
    host = request.header("Host") or "localhost"
    return {
        "accountId": api.account_id,
        "apiId": api.api_id,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": request.header("User-Agent") or "",
        },
        "requestId": request_id,
        "routeKey": route_key(route),
        "stage": DEFAULT_STAGE,
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }


def build_event(
    request: HttpRequest,
    api: Api,
    route: Route,
    raw_params: dict[str, str],
    request_id: str,
    authorizer: dict | None = None,
    now: float | None = None,
) -> dict:
    """The payload format 2.0 event for ``request`` on ``route``; ``authorizer`` as the integration sees it."""
    now = time.time() if now is None else now
    cookies = [
        part.strip()
        for name, value in request.headers
        if name.lower() == "cookie"
        for part in value.split(";")
        if part.strip()
    ]
    headers = _joined([(name, value) for name, value in request.headers if name.lower() != "cookie"], lower=True)
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    context = request_context(request, api, route, request_id, now)
    if authorizer is not None:
        context["authorizer"] = authorizer
    event = {
        "version": "2.0",
        "routeKey": route_key(route),
        "rawPath": request.path,
        "rawQueryString": request.target.partition("?")[2],
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = _joined(request.query, lower=False)
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = context
    if request.body:
        text = _is_text(request.header("Content-Type"))
        try:
            event["body"] = request.body.decode() if text else base64.b64encode(request.body).decode()
        except UnicodeDecodeError:
            text, event["body"] = False, base64.b64encode(request.body).decode()
        event["isBase64Encoded"] = not text
    else:
        event["isBase64Encoded"] = False
    if raw_params:
        event["pathParameters"] = {name: unquote(value) for name, value in raw_params.items()}
    return event


def read_result(result) -> HttpResponse:
    """The HTTP response a payload 2.0 result describes; raise :class:`MalformedResult` as API Gateway would.

    A result without ``statusCode`` is a body: 200, JSON, the result serialized.
    """
    if not isinstance(result, dict) or "statusCode" not in result:
        return HttpResponse(200, [("Content-Type", "application/json")], json.dumps(result).encode())
    unknown = set(result) - RESULT_KEYS
    if unknown:
        raise MalformedResult(f"unexpected keys: {', '.join(sorted(unknown))}")
    status = result["statusCode"]
    if type(status) is not int or not 100 <= status <= 599:
        raise MalformedResult("statusCode must be an integer HTTP status")
    declared = result.get("headers") or {}
    if not isinstance(declared, dict):
        raise MalformedResult("headers must be an object")
    headers = [
        (name, _header_value(name, value)) for name, value in declared.items() if name.lower() not in FRAMING_HEADERS
    ]
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(cookie, str) for cookie in cookies):
        raise MalformedResult("cookies must be a list of strings")
    headers += [("Set-Cookie", _header_value("Set-Cookie", cookie)) for cookie in cookies]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    body, is_base64 = result.get("body"), result.get("isBase64Encoded", False)
    if body is None:
        return HttpResponse(status, headers, b"")
    if not isinstance(body, str) or not isinstance(is_base64, bool):
        raise MalformedResult("body must be a string and isBase64Encoded true or false")
    try:
        return HttpResponse(status, headers, base64.b64decode(body, validate=True) if is_base64 else body.encode())
    except ValueError:
        raise MalformedResult("body is not valid base64 although isBase64Encoded is true") from None
