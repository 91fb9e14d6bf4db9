"""HTTP requests as REST API (payload 1.0) proxy events, and proxy results as HTTP responses."""

from __future__ import annotations

import base64
import binascii
import os
import re
import time
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import parse_qsl, unquote

from tools.gateway.api import Api, Route

RESULT_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
# Framing is the server's job: these from a function are dropped.
FRAMING_HEADERS = {"content-length", "transfer-encoding", "connection"}
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
IDENTITY_KEYS = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "user",
)


class MalformedResult(ValueError):
    """The function's answer is no valid proxy result; API Gateway answers 502."""


@dataclass
class HttpRequest:
    method: str
    target: str  # path and query, as sent
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str

    @property
    def path(self) -> str:
        return self.target.partition("?")[0] or "/"

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.target.partition("?")[2], keep_blank_values=True)

    def header(self, name: str) -> str | None:
        """The last value of header ``name`` (any case), or None."""
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[-1] if values else None


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[-1] if values else None


def is_binary(content_type: str | None, binary_media_types: tuple[str, ...]) -> bool:
    """Whether ``content_type`` is one of the API's ``BinaryMediaTypes`` (``*`` wildcards allowed)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return bool(media_type) and any(fnmatchcase(media_type, pattern.lower()) for pattern in binary_media_types)


def _single_and_multi(pairs: list[tuple[str, str]], ignore_case: bool) -> tuple[dict | None, dict | None]:
    """REST API's two views of repeated names: the last value, and every value in order.

    With ``ignore_case`` (headers), names that differ in case only are one name, spelled as first sent.
    """
    names: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        key = names.setdefault(name.lower(), name) if ignore_case else name
        multi.setdefault(key, []).append(value)
    single = {name: values[-1] for name, values in multi.items()}
    return single or None, multi or None


def _forwarded_headers(request: HttpRequest) -> list[tuple[str, str]]:
    headers = [(name, value) for name, value in request.headers if name.lower() != "x-forwarded-for"]
    forwarded_for = request.header("X-Forwarded-For")
    headers.append(("X-Forwarded-For", f"{forwarded_for}, {request.source_ip}" if forwarded_for else request.source_ip))
    host = request.header("Host") or ""
    headers.append(("X-Forwarded-Port", host.rpartition(":")[2] if ":" in host else "80"))
    headers.append(("X-Forwarded-Proto", "http"))
    if request.header("X-Amzn-Trace-Id") is None:
        headers.append(("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()}"))
    return headers


def _body(request: HttpRequest, api: Api) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    if not is_binary(request.header("Content-Type"), api.binary_media_types):
        try:
            return request.body.decode(), False
        except UnicodeDecodeError:
            pass  # no JSON string can carry it as text; API Gateway would garble it
    return base64.b64encode(request.body).decode(), True


def request_context(request: HttpRequest, api: Api, route: Route, request_id: str, now: float) -> dict:
    """``requestContext`` of a REST API event, without ``authorizer``."""
    host = request.header("Host") or "localhost"
    identity = dict.fromkeys(IDENTITY_KEYS)
    identity.update(sourceIp=request.source_ip, userAgent=request.header("User-Agent"))
    return {
        "resourceId": route.resource_id,
        "resourcePath": route.path,
        "httpMethod": request.method,
        "extendedRequestId": base64.b64encode(os.urandom(10)).decode(),
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "path": f"/{api.stage}{request.path}",
        "accountId": api.account_id,
        "protocol": "HTTP/1.1",
        "stage": api.stage,
        "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
        "requestTimeEpoch": int(now * 1000),
        "requestId": request_id,
        "identity": identity,
        "domainName": host,
        "apiId": api.api_id,
    }


def build_event(
    request: HttpRequest,
    api: Api,
    route: Route,
    raw_params: dict[str, str],
    request_id: str,
    authorizer_context: dict | None = None,
    now: float | None = None,
) -> dict:
    """The REST API proxy event for ``request`` on ``route``; ``authorizer_context`` as the integration sees it."""
    now = time.time() if now is None else now
    headers, multi_headers = _single_and_multi(_forwarded_headers(request), ignore_case=True)
    query, multi_query = _single_and_multi(request.query, ignore_case=False)
    body, is_base64 = _body(request, api)
    context = request_context(request, api, route, request_id, now)
    if authorizer_context is not None:
        context["authorizer"] = authorizer_context
    return {
        "resource": route.path,
        "path": request.path,  # as the client encoded it: a REST API decodes only pathParameters
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": {name: unquote(value) for name, value in raw_params.items()} or None,
        "stageVariables": dict(api.stage_variables) or None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _header_value(name: str, value) -> str:
    if not HEADER_NAME.fullmatch(name):
        raise MalformedResult(f"{name!r} is not a valid header name")
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, (str, int, float)):
        raise MalformedResult(f"header {name!r} must be a string, number or boolean")
    text = str(value)
    if not HEADER_VALUE.fullmatch(text):
        raise MalformedResult(f"header {name!r} holds a line break, a control or a non-Latin-1 character")
    return text


def _headers(result: dict) -> list[tuple[str, str]]:
    single, multi = result.get("headers") or {}, result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedResult("headers and multiValueHeaders must be objects")
    headers = []
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResult(f"multiValueHeaders[{name!r}] must be a list")
        headers += [(name, _header_value(name, value)) for value in values]
    seen = {(name.lower(), value) for name, value in headers}
    for name, value in single.items():
        text = _header_value(name, value)
        if (name.lower(), text) not in seen:
            headers.append((name, text))
    return [(name, value) for name, value in headers if name.lower() not in FRAMING_HEADERS]


def _result_body(result: dict) -> bytes:
    body, is_base64 = result.get("body"), result.get("isBase64Encoded", False)
    if not isinstance(is_base64, bool):
        raise MalformedResult("isBase64Encoded must be true or false")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResult("body must be a string (serialize JSON yourself)")
    if not is_base64:
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedResult("body is not valid base64 although isBase64Encoded is true") from None


def read_result(result) -> HttpResponse:
    """The HTTP response a Lambda proxy result describes; raise :class:`MalformedResult` as API Gateway would."""
    if not isinstance(result, dict):
        raise MalformedResult("the function must return an object")
    unknown = set(result) - RESULT_KEYS
    if unknown:
        raise MalformedResult(f"unexpected keys: {', '.join(sorted(unknown))}")
    status = result.get("statusCode")
    if type(status) is not int or not 100 <= status <= 599:
        raise MalformedResult("statusCode must be an integer HTTP status")
    headers = _headers(result)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(status, headers, _result_body(result))
