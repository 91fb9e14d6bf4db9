"""A read-only view over an API Gateway proxy event, REST (1.0) or HTTP API (2.0)."""

from __future__ import annotations

from functools import cached_property

import orjson

from shared import errors
from shared.principal import Principal, local_principal, principal_from_authorizer
from shared.text import is_text

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any

JSON_TYPES = ("application/json", "application/merge-patch+json")


def _mapping(value: object, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.MalformedEvent(f"{where} must be an object")
    return value


def _text(value: object, where: str) -> str:
    if not is_text(value):
        raise errors.MalformedEvent(f"{where} must be a string of Unicode text (UTF-8)")
    return value


def _texts(values: object, where: str) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise errors.MalformedEvent(f"{where} must be a list of strings")
    return [_text(value, where) for value in values]


def _joined_names(headers: dict[str, Any], where: str) -> str:
    """The names of ``headers`` joined by line breaks, once every name and value is known to be text (checked all at
    once, in two joined strings)."""
    try:
        names: str | None = "\n".join(headers)
        values: str | None = "".join(headers.values())
    except TypeError:  # a name or a value that is not a string
        names = values = None
    if not (is_text(names) and is_text(values)):  # a lone surrogate in one part is one in the joined text
        raise errors.MalformedEvent(f"{where} names and values must be strings of Unicode text (UTF-8)")
    return names


class Request:
    """What a route function needs to know about one request.

    Built from the raw event; raises :class:`shared.errors.MalformedEvent` when
    the event lacks what every API Gateway proxy event has. The body is decoded
    only when a route asks for it, and refused above ``max_body_bytes`` (which
    the router sets from the settings once the event is known to be one).

    Read a header with :meth:`header` (``request.header("if-match")``), or every
    header from :attr:`headers`, a dict by lower-case name.
    """

    def __init__(self, event: object, max_body_bytes: int = 16384) -> None:  # MAX_BODY_BYTES's default
        if not isinstance(event, dict):
            raise errors.MalformedEvent("the event must be a JSON object")
        self.event = event
        self.max_body_bytes = max_body_bytes
        context = event.get("requestContext")
        if type(context) is not dict:  # the usual event's checks are inlined: every request makes them
            context = _mapping(context, "requestContext")
        if not context:
            raise errors.MalformedEvent("the event has no requestContext")
        self.context = context
        if event.get("version") == "2.0":
            self.payload_version = "2.0"
            http = _mapping(context.get("http"), "requestContext.http")
            method = _text(http.get("method"), "requestContext.http.method")
            path = self._path_without_stage(_text(event.get("rawPath"), "rawPath"))
        else:
            self.payload_version = "1.0"
            raw_method, raw_path = event.get("httpMethod"), event.get("path")
            if type(raw_method) is str and type(raw_path) is str and raw_method.isascii() and raw_path.isascii():
                method, path = raw_method, raw_path
            else:
                method, path = _text(raw_method, "httpMethod"), _text(raw_path, "path")
        if not path.startswith("/"):
            raise errors.MalformedEvent("the path must start with /")
        self.method = method.upper()
        self.path = path
        self._headers: dict[str, str] | None = None  # built by the first read of ``headers``
        self._names_as_sent = self._checked_header_names()
        # A line break ends a word for lower() as a text's end does: each line is its name lowered on its own.
        self._header_names = self._names_as_sent.lower()
        request_id = context.get("requestId")
        self.request_id = request_id if is_text(request_id) else ""
        self._principal: Principal | None = None
        # Set by the router once a route matches.
        self.route = ""
        self.path_params: dict[str, Any] = {}  # the declared ones read by their Fields (Router.route's params=)
        self.data: Any = None  # the body checked by the route's schema
        self.query_params: dict[str, Any] = {}  # the declared query parameters, checked (Router.route's query=)

    def _path_without_stage(self, raw_path: str) -> str:
        stage = self.context.get("stage")
        if isinstance(stage, str) and stage != "$default" and raw_path.startswith(f"/{stage}/"):
            return raw_path[len(stage) + 1 :]
        return raw_path

    def _checked_header_names(self) -> str:
        """The event's header names, one per line; MalformedEvent for headers that are not text."""
        raw = self.event.get("headers")
        headers = raw if type(raw) is dict else _mapping(raw, "headers")
        if not headers and self.payload_version == "1.0" and self.event.get("multiValueHeaders") is not None:
            self._headers = self._last_values()  # a REST event with multiValueHeaders alone: checked as they are read
            return "\n".join(self._headers)
        return _joined_names(headers, "headers")

    def _last_values(self) -> dict[str, str]:
        headers = {}
        for name, values in _mapping(self.event.get("multiValueHeaders"), "multiValueHeaders").items():
            if isinstance(values, list) and values:
                headers[_text(name, "multiValueHeaders").lower()] = _text(values[-1], f"multiValueHeaders.{name}")
        return headers

    @property
    def headers(self) -> dict[str, str]:
        """Header values by lower-case name; for repeated headers, the last value.

        Built by the first read: a request that reads one header by :meth:`header`, or none, is spared
        lower-casing every name of a REST API event (whose names come as the client wrote them).
        """
        headers = self._headers
        if headers is None:
            raw: dict[str, str] = self.event.get("headers") or {}  # checked in __init__
            if self._header_names == self._names_as_sent:  # an HTTP API's names, or a client's sent in lower case
                headers = self._headers = dict(raw)
            else:
                headers = self._headers = {name.lower(): value for name, value in raw.items()}
        return headers

    def header(self, name: str) -> str | None:
        """The value of the header ``name`` (in lower case: ``"if-none-match"``), or None when the request has none.

        The same as ``headers.get(name)``, but an absent header is answered without building :attr:`headers`.
        """
        if self._headers is None and name not in self._header_names:
            return None
        return self.headers.get(name)

    @cached_property
    def query_lists(self) -> dict[str, list[str]]:
        """Every value of every query parameter, in order."""
        if self.payload_version == "2.0":
            raw = _text(self.event.get("rawQueryString") or "", "rawQueryString")
            lists: dict[str, list[str]] = {}
            if not raw:
                return lists
            # Imported here, not at the top: urllib.parse costs 2 ms of a cold start that plain requests skip.
            from urllib.parse import parse_qsl

            for name, value in parse_qsl(raw, keep_blank_values=True):
                lists.setdefault(name, []).append(value)
            return lists
        multi = _mapping(self.event.get("multiValueQueryStringParameters"), "multiValueQueryStringParameters")
        if multi:
            return {_text(name, "query"): _texts(values, f"query.{name}") for name, values in multi.items()}
        single = _mapping(self.event.get("queryStringParameters"), "queryStringParameters")
        return {_text(name, "query"): [_text(value, f"query.{name}")] for name, value in single.items()}

    @cached_property
    def query(self) -> dict[str, str]:
        """The first value of each query parameter."""
        return {name: values[0] for name, values in self.query_lists.items() if values}

    @cached_property
    def body(self) -> bytes:
        """The raw body, base64-decoded when API Gateway encoded it; 413 above the limit."""
        raw = self.event.get("body")
        if raw is None:
            return b""
        if not isinstance(raw, str):
            raise errors.MalformedEvent("body must be a string")
        if self.event.get("isBase64Encoded") is True:
            if len(raw) > (self.max_body_bytes + 2) // 3 * 4 + 4:
                raise errors.PayloadTooLarge(f"the body is larger than {self.max_body_bytes} bytes")
            # Imported here: only encoded bodies need them, and every other cold start is spared.
            import base64
            import binascii

            try:
                data = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise errors.MalformedEvent("the body is not valid base64") from None
        else:
            try:
                data = raw.encode()
            except UnicodeEncodeError:
                raise errors.InvalidJSON("the body is not valid UTF-8") from None
        if len(data) > self.max_body_bytes:
            raise errors.PayloadTooLarge(f"the body is larger than {self.max_body_bytes} bytes")
        return data

    def json(self) -> Any:
        """The body parsed as JSON; 415 for another content type, 400 when it does not parse."""
        content_type = (self.header("content-type") or "").split(";", 1)[0].strip().lower()
        if content_type not in JSON_TYPES:
            raise errors.UnsupportedMediaType(
                "send the body as application/json" if content_type else "the Content-Type header is missing"
            )
        body = self.body
        if not body:
            raise errors.InvalidJSON("the body is empty")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise errors.InvalidJSON(f"the body is not valid JSON: {exc.msg}") from None

    @property
    def principal(self) -> Principal:
        """The authenticated caller, read once; 401 when the event carries none."""
        if self._principal is None:  # a plain property: cheaper to read than functools.cached_property
            principal = principal_from_authorizer(self.context)
            self._principal = principal if principal is not None else local_principal(self.header("authorization"))
        return self._principal
