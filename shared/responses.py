"""Responses built by route functions, and their API Gateway proxy shapes (a toolkit module)."""

from __future__ import annotations

import orjson

from shared.errors import HTTPError
from shared.text import encodable

TYPE_CHECKING = False  # typing is imported only by the checker: a cold start does not pay for it
if TYPE_CHECKING:
    from typing import Any

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


class Response:
    """An HTTP response: status, headers (lower-case names) and body bytes."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = {} if headers is None else headers


def json_response(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response whose body is ``data`` serialized with orjson."""
    all_headers = {"content-type": JSON, **headers} if headers else {"content-type": JSON}
    return Response(status, orjson.dumps(data, option=orjson.OPT_UTC_Z), all_headers)


def created(body: object, location: str, headers: dict[str, str] | None = None) -> Response:
    """201 Created: ``body`` as JSON, ``Location`` naming the new resource (``/notes/<id>``)."""
    return json_response(body, 201, {"location": location, **(headers or {})})


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    """A response without a body (204, 304, a preflight...)."""
    return Response(status, b"", dict(headers or {}))


MAX_DETAIL_CHARS = 1000
MAX_TEXT_CHARS = 500  # instance, request_id and every other text in a problem document
MAX_PROBLEM_ITEMS = 20  # of any list in a problem document: the first ones, and a count of the others
MAX_NESTED_TEXT_CHARS = 200
PROBLEM_KEYS = ("type", "title", "status", "detail", "instance", "request_id")
LARGEST_INT = 2**63 - 1  # orjson writes integers up to 64 bits


def response_text(value: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``value`` as a response may carry it: at most ``limit`` characters, and always encodable.

    The one place text from an event or a token becomes response text: a longer
    value is cut (``…`` marks the cut), and each lone surrogate (which no UTF-8
    text holds, and which orjson refuses) becomes U+FFFD.
    """
    if len(value) > limit:
        value = value[: limit - 1] + "\u2026"
    return encodable(value)


def _bounded(value: object, depth: int = 0) -> object:
    """An extension member of a problem document, bounded: texts cut, lists and objects to their first items."""
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):
        return value if -LARGEST_INT <= value <= LARGEST_INT else str(value)[:40]
    if isinstance(value, (list, tuple)) and depth < 2:
        return [_bounded(item, depth + 1) for item in value[:MAX_PROBLEM_ITEMS]]
    if isinstance(value, dict) and depth < 2:
        return {
            response_text(str(key), 50): _bounded(item, depth + 1)
            for key, item in list(value.items())[:MAX_PROBLEM_ITEMS]
        }
    return response_text(
        value if isinstance(value, str) else str(value), MAX_NESTED_TEXT_CHARS if depth else MAX_TEXT_CHARS
    )


def problem_response(error: HTTPError, instance: str, request_id: str) -> Response:
    """The RFC 9457 problem document for ``error``, of bounded size whatever the error holds.

    ``detail`` is cut at 1000 characters, ``instance``, ``request_id`` and
    other texts at 500 (200 inside a list or object); a list (such as
    ``errors``) keeps its first 20 items, and ``<name>_omitted`` counts the
    others. Lone surrogates become U+FFFD, so serializing never fails.
    """
    document = {
        "type": error.type,
        "title": error.title,
        "status": error.status,
        "detail": response_text(error.detail or error.title, MAX_DETAIL_CHARS),
        "instance": response_text(instance),
        "request_id": response_text(request_id),
    }
    for name, value in error.extensions.items():
        if name in PROBLEM_KEYS:
            continue
        document[name] = _bounded(value)
        if isinstance(value, (list, tuple)) and len(value) > MAX_PROBLEM_ITEMS:
            document[f"{name}_omitted"] = len(value) - MAX_PROBLEM_ITEMS
    headers = {"content-type": PROBLEM_JSON, **{name.lower(): value for name, value in error.headers.items()}}
    try:
        body = orjson.dumps(document)
    except TypeError:  # orjson.JSONEncodeError: an extension of a type it cannot write; the problem stands
        body = orjson.dumps({key: document[key] for key in PROBLEM_KEYS})
    return Response(error.status, body, headers)


def _body_text(body: bytes, headers: dict[str, str]) -> tuple[str, bool]:
    content_type = headers.get("content-type", "")
    if not body:
        return "", False
    if content_type.startswith(("application/json", "application/problem+json", "text/")):
        return body.decode(), False
    import base64  # only for binary bodies: kept off the cold start of every JSON response

    return base64.b64encode(body).decode(), True


def to_proxy_result(response: Response) -> dict[str, Any]:
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
