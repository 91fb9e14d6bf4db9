"""Responses built by route functions, and their API Gateway proxy shapes (a toolkit module)."""

from __future__ import annotations

import orjson

from shared.errors import HTTPError

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


class Response:
    """An HTTP response: status, headers (lower-case names) and body bytes."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = {} if headers is None else headers


def json_response(data, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response whose body is ``data`` serialized with orjson."""
    all_headers = {"content-type": JSON}
    if headers:
        all_headers.update(headers)
    return Response(status, orjson.dumps(data, option=orjson.OPT_UTC_Z), all_headers)


def created(body, location: str, headers: dict[str, str] | None = None) -> Response:
    """201 Created: ``body`` as JSON, ``Location`` naming the new resource (``/notes/<id>``)."""
    return json_response(body, 201, {"location": location, **(headers or {})})


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    """A response without a body (204, 304, a preflight...)."""
    return Response(status, b"", dict(headers or {}))


def problem_response(error: HTTPError, instance: str, request_id: str) -> Response:
    """The RFC 9457 problem document for ``error``."""
    document = {
        "type": error.type,
        "title": error.title,
        "status": error.status,
        "detail": error.detail or error.title,
        "instance": instance,
        "request_id": request_id,
    }
    document.update(error.extensions)
    headers = {"content-type": PROBLEM_JSON, **{name.lower(): value for name, value in error.headers.items()}}
    return Response(error.status, orjson.dumps(document), headers)


def _body_text(body: bytes, headers: dict[str, str]) -> tuple[str, bool]:
    content_type = headers.get("content-type", "")
    if not body:
        return "", False
    if content_type.startswith(("application/json", "application/problem+json", "text/")):
        return body.decode(), False
    import base64  # only for binary bodies: kept off the cold start of every JSON response

    return base64.b64encode(body).decode(), True


def to_proxy_result(response: Response) -> dict:
    """The dict API Gateway expects back from a Lambda proxy integration.

    One shape serves both payload versions: REST API (1.0) and HTTP API (2.0)
    read the same ``statusCode``, ``headers``, ``body`` and ``isBase64Encoded``.
    """
    body, is_base64 = _body_text(response.body, response.headers)
    return {
        "statusCode": response.status,
        "headers": response.headers,
        "body": body,
        "isBase64Encoded": is_base64,
    }
