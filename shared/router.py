"""Routes declared as method + path template, dispatched from one Lambda event.

A toolkit module: it serves any resource.

    router = Router("notes")

    @router.post("/notes", body=NOTE)  # behind the authorizer; public=True for a route that needs no token
    def create_note(request):
        note = store(request.data)  # request.data: the body, checked by the NOTE schema (else 400)
        return created(note, f"/notes/{note['id']}")

    @router.get("/notes/{note_id}", params={"note_id": String(pattern="[0-9a-f]{24}", example="0" * 24)})
    def read_note(request):
        return json_response(find(request.path_params["note_id"]))  # checked before the call (else 400)

    def lambda_handler(event, context):
        return router.dispatch(event, context)

A declaration is the route's only description: ``make lint`` checks the template, openapi.yaml and
events/ against it, and the keywords (``body``, ``params``, ``status``, ``response``) say what the
OpenAPI operation takes and answers.
"""

from __future__ import annotations

import time

from shared import errors, observability
from shared.config import Settings, settings
from shared.errors import HTTPError
from shared.request import Request
from shared.responses import Response, problem_response, to_proxy_result

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import re
    from collections.abc import Callable
    from typing import Any

    from shared.schema import Field, Schema

    Endpoint = Callable[[Request], Response]
# What a path segment may hold besides {parameters} (RFC 3986 pchar); a set: a regex costs a cold start to compile.
LITERAL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@%")
DEFAULT_STATUS = {"POST": 201, "DELETE": 204}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def check_template(template: str) -> list[str]:
    """The parameter names of ``template``; ValueError with one line when it is malformed.

    Malformed: no leading ``/``, an empty segment (``//``), unbalanced braces, an empty or bad
    parameter name, a parameter that is not a whole segment, a name used twice.
    """

    def malformed(reason: str) -> ValueError:
        return ValueError(f"route template {template!r}: {reason}")

    if not isinstance(template, str) or not template.startswith("/"):
        raise malformed("must start with /")
    names = []
    segments = template[1:].split("/")
    for segment in segments if template != "/" else []:
        if not segment:
            raise malformed("has an empty segment (// or a trailing /)")
        if "{" in segment or "}" in segment:
            name = _parameter_name(segment)
            if name is None:
                if segment.count("{") != segment.count("}"):
                    raise malformed(f"has unbalanced braces in {segment!r}")
                raise malformed(
                    f"{segment!r} must be a whole segment {{name}}, name a letter or _ then letters, digits or _"
                )
            if name in names:
                raise malformed(f"names the parameter {name!r} twice")
            names.append(name)
        elif not LITERAL.issuperset(segment):
            raise malformed(f"has characters a path may not hold in {segment!r}")
    return names


def _parameter_name(segment: str) -> str | None:
    """``name`` for a segment ``{name}`` (a letter or _, then letters, digits or _, all ASCII), else None."""
    name = segment[1:-1]
    if segment[:1] == "{" and segment[-1:] == "}" and name.isascii() and name.isidentifier():
        return name
    return None


def segments_of(template: str) -> str | tuple[tuple[str, str | None], ...]:
    """What :meth:`Route.match` compares a path with: the template itself when it has no parameters, else
    one ``(literal, None)`` or ``("", name)`` pair per ``/``-separated part. (Plain string work: a regex per
    route would cost a cold start to compile.)"""
    if "{" not in template:
        return template
    return tuple(("", name) if (name := _parameter_name(part)) else (part, None) for part in template.split("/"))


def compile_template(template: str) -> re.Pattern[str]:
    """``/users/{user_id}`` -> a regular expression whose named groups are the path parameters (for tools)."""
    import re

    parts = re.split(r"{([A-Za-z_][A-Za-z0-9_]*)}", template)
    pattern = "".join(f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part) for index, part in enumerate(parts))
    return re.compile(f"^{pattern}$")


def percent_decoded(params: dict[str, str]) -> dict[str, str]:
    """``params`` with %XX escapes decoded (as UTF-8), the way API Gateway decodes ``pathParameters``."""
    if not params or not any("%" in value for value in params.values()):
        return params
    from urllib.parse import unquote  # only for encoded parameters: it costs 2 ms of a cold start

    return {name: unquote(value) for name, value in params.items()}


class Route:
    """A declared route: method, path template, endpoint, its :func:`segments_of`, whether it is public (no
    authorizer), the body Schema checked before the endpoint (or None), the Fields of its path parameters
    (``{name: Field}`` or None), the success status it answers, the Schema of that answer (OpenAPI only),
    the Fields of its query parameters (or None), the error classes its code raises beyond what the router
    answers itself, and whether it honours conditional headers (:mod:`shared.conditional`).

    ``body`` may be declared as a function that builds the Schema: it is called the first time the route's
    ``body`` is read (its first request, or a tool), so that a schema costly to build is not built in every
    cold start. (A plain class with slots: a namedtuple costs a cold start a compile to create.)
    """

    __slots__ = (
        "_body",
        "conditional",
        "endpoint",
        "errors",
        "method",
        "params",
        "public",
        "query",
        "response",
        "segments",
        "status",
        "template",
    )

    def __init__(
        self,
        method: str,
        template: str,
        endpoint: Endpoint,
        segments: str | tuple[tuple[str, str | None], ...],
        public: bool = False,
        body: Schema | Callable[[], Schema] | None = None,
        params: dict[str, Field] | None = None,
        status: int = 200,
        response: Schema | None = None,
        query: dict[str, Field] | None = None,
        errors: tuple[type[HTTPError], ...] = (),
        conditional: bool = False,
    ) -> None:
        self.method = method
        self.template = template
        self.endpoint = endpoint
        self.segments = segments
        self.public = public
        self._body = body
        self.params = params
        self.status = status
        self.response = response
        self.query = query
        self.errors = errors
        self.conditional = conditional

    def __repr__(self) -> str:
        return f"Route({self.method} {self.template})"

    @property
    def body(self) -> Schema | None:
        """The body Schema (or None), built now if it was declared as a function that builds it."""
        body = self._body
        if body is not None and not hasattr(body, "validate"):
            body = self._body = body()
        return body  # type: ignore[return-value]  # a Schema now: the function was called

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters when ``path`` fits the template (each a non-empty part without ``/``), else None."""
        segments = self.segments
        if isinstance(segments, str):
            return {} if path == segments else None
        parts = path.split("/")
        if len(parts) != len(segments):
            return None
        params: dict[str, str] = {}
        for part, (literal, name) in zip(parts, segments, strict=True):
            if name is None:
                if part != literal:
                    return None
            elif part:
                params[name] = part
            else:
                return None
        return params


def checked_params(fields: dict[str, Field], params: dict[str, str]) -> dict[str, Any]:
    """The path parameters, each declared one read by its Field as a query parameter is (an ``Integer``'s
    text as an int) and checked; 400 ``InvalidParameter`` naming the first bad one. Others stay text."""
    from shared.schema import FieldError  # only routes that declare params reach here

    values: dict[str, Any] = dict(params)
    for name, field in fields.items():
        try:
            values[name] = field.from_text(params[name])
        except FieldError as exc:
            raise errors.InvalidParameter(f"{name} {exc}", parameter=name) from None
    return values


def checked_query(fields: dict[str, Field], given: dict[str, list[str]]) -> dict[str, Any]:
    """The declared query parameters read and checked by their Fields: ``{name: value}``.

    A parameter that is absent takes its Field's ``default`` (or is left out); a ``required`` one must be
    there. Each occurrence counts: a :class:`shared.schema.List` takes them all, any other Field exactly one.
    400 ``InvalidParameter`` naming the first bad parameter; parameters nobody declared are ignored.
    """
    from shared.schema import NO_DEFAULT, FieldError  # only routes that declare query reach here

    values: dict[str, Any] = {}
    for name, field in fields.items():
        texts = given.get(name)
        try:
            if texts:
                values[name] = field.from_texts(texts)
            elif field.required:
                raise FieldError("is required")
            elif field.default is not NO_DEFAULT:
                values[name] = field.default
        except FieldError as exc:
            raise errors.InvalidParameter(f"{name} {exc}", parameter=name) from None
    return values


class Router:
    """The routes of one Lambda function, and the dispatch of its events."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.routes: list[Route] = []
        self.cold_start = True

    def route(
        self,
        method: str,
        template: str,
        *,
        public: bool = False,
        body: Schema | None = None,
        params: dict[str, Field] | None = None,
        status: int | None = None,
        response: Schema | None = None,
        query: dict[str, Field] | None = None,
        errors: tuple[type[HTTPError], ...] | type[HTTPError] = (),
        conditional: bool = False,
    ) -> Callable[[Endpoint], Endpoint]:
        """Declare the decorated endpoint as the answer to ``method`` on ``template``.

        ``public``: no token needed; any other route answers 401 (from the router, before its
        parameters, body or endpoint are looked at) when the event names no caller. ``body``: a
        :class:`shared.schema.Schema` the JSON body must follow (400 otherwise), or a function that
        builds it (called once, on the route's first request or a tool's first read); the endpoint reads
        the checked result as ``request.data``. ``params``:
        ``{name: Field}`` read and checked from the path parameters by :func:`checked_params` (400
        ``InvalidParameter`` otherwise); the endpoint reads them as ``request.path_params``.
        ``query``: ``{name: Field}`` read and checked from the query string by :func:`checked_query`
        (400 ``InvalidParameter`` naming it otherwise); the endpoint reads them as ``request.query_params``.
        ``status``: the success status (default 201 for POST, 204 for DELETE, 200 otherwise).
        ``response``: the Schema of the success body, for the OpenAPI description only.
        ``errors``: the :class:`shared.errors.HTTPError` classes the endpoint raises (``(NotFound, Conflict)``),
        and ``conditional``: the endpoint answers ``If-None-Match`` with 304 (GET) or ``If-Match`` with 412
        (writes), both for the OpenAPI description (every status the route can answer).
        A malformed template, ``params`` naming a parameter the template has not or a Field no path segment
        stands for, a ``query`` Field no text stands for (a Map, an Object, an AnyOf, a List of lists), or an
        ``errors`` entry that is not an HTTPError class is a ValueError now.
        """
        method = method.upper()
        names = check_template(template)
        unknown = sorted(set(params or ()) - set(names))
        if unknown:
            raise ValueError(f"route {method} {template}: params {unknown} are not parameters of the template")
        untyped = sorted(name for name, field in (query or {}).items() if not getattr(field, "takes_text", False))
        if untyped:
            raise ValueError(
                f"route {method} {template}: query {untyped} must be Fields a query text stands for "
                f"(String, Url, Integer, Number, Boolean, Enum, or a List of one of them)"
            )
        # One path segment is one value: a List (it has an item Field) takes no path parameter.
        unfit = sorted(
            name
            for name, field in (params or {}).items()
            if not getattr(field, "takes_text", False) or hasattr(field, "item")
        )
        if unfit:
            raise ValueError(
                f"route {method} {template}: params {unfit} must be Fields one path segment stands for "
                f"(String, Url, Integer, Number, Boolean, Enum)"
            )
        raised = (errors,) if isinstance(errors, type) else tuple(errors)  # one class alone is taken too
        if not all(isinstance(error, type) and issubclass(error, HTTPError) for error in raised):
            raise ValueError(f"route {method} {template}: errors must be HTTPError classes (shared.errors)")
        status = status or DEFAULT_STATUS.get(method, 200)

        def register(endpoint: Endpoint) -> Endpoint:
            self.routes.append(
                Route(
                    method,
                    template,
                    endpoint,
                    segments_of(template),
                    public,
                    body,
                    params or None,
                    status,
                    response,
                    query or None,
                    raised,
                    conditional,
                )
            )
            return endpoint

        return register

    def get(self, template: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        """``route("GET", template, ...)``; the keywords are :meth:`route`'s."""
        return self.route("GET", template, **options)

    def post(self, template: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        """``route("POST", template, ...)``: answers 201 unless ``status`` says otherwise."""
        return self.route("POST", template, **options)

    def put(self, template: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        """``route("PUT", template, ...)``."""
        return self.route("PUT", template, **options)

    def patch(self, template: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        """``route("PATCH", template, ...)``."""
        return self.route("PATCH", template, **options)

    def delete(self, template: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        """``route("DELETE", template, ...)``: answers 204 unless ``status`` says otherwise."""
        return self.route("DELETE", template, **options)

    def allowed_methods(self, path: str) -> list[str]:
        """The methods some route accepts on ``path``, and OPTIONS.

        No HEAD: the template routes none, so API Gateway answers it with 403 itself.
        """
        methods = {route.method for route in self.routes if route.match(path) is not None}
        if methods:
            methods.add("OPTIONS")
        return sorted(methods)

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for ``method`` on ``path`` and its parameters; 404 or 405 otherwise."""
        allowed = []
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method == method:
                return route, params
            allowed.append(route.method)
        if not allowed:
            raise errors.NotFound(f"no route matches {path}")
        allow = ", ".join(self.allowed_methods(path))
        raise errors.MethodNotAllowed(f"{method} is not allowed on {path}", headers={"Allow": allow})

    def respond(self, request: Request, config: Settings) -> Response:
        """Run the route that matches ``request`` and return its response."""
        path = request.path.rstrip("/") or "/"
        if request.method == "OPTIONS":
            allowed = self.allowed_methods(path)
            if not allowed:
                raise errors.NotFound(f"no route matches {path}")
            from shared import cors  # only OPTIONS needs it, or a response to an allowed origin

            return cors.preflight_response(request.headers, allowed, config)
        route, params = self.find(request.method, path)
        # A REST API (1.0) passes the path as the client encoded it; an HTTP API (2.0) decodes it first.
        request.path_params = percent_decoded(params) if params and request.payload_version == "1.0" else params
        request.route = route.template
        request.data = None
        if not route.public:
            _ = request.principal  # 401 for every route behind the authorizer, before anything else is looked at
        if route.params is not None:
            request.path_params = checked_params(route.params, request.path_params)
        if route.query is not None:
            request.query_params = checked_query(route.query, request.query_lists)
        if route.body is not None:
            request.data = route.body.validate(request.json())
        return route.endpoint(request)

    def dispatch(self, event: object, context: object) -> dict[str, Any]:
        """Answer one API Gateway event. Never raises: every failure, bad settings included, is a problem response."""
        started = time.perf_counter()
        cold_start, self.cold_start = self.cold_start, False
        request, config, failure = None, None, None
        request_id = getattr(context, "aws_request_id", "")
        request_id = request_id if isinstance(request_id, str) else ""
        instance = ""
        try:
            request = Request(event)
            request_id = request.request_id or request_id
            instance = request.path
            config = settings()  # after the request, so that even a ConfigError's 500 names the request
            request.max_body_bytes = config.max_body_bytes
            response = self.respond(request, config)
        except errors.HTTPError as error:
            response = problem_response(error, instance, request_id)
        except Exception as exc:
            failure = exc
            response = problem_response(
                errors.HTTPError("the server could not answer this request"), instance, request_id
            )
        try:
            if request is not None and config is not None and config.cors_allow_origins:
                from shared import cors

                cors.add_response_headers(response.headers, request.headers, config)
            result = to_proxy_result(response)
        except Exception as exc:  # a body that is no text although its type says so, for one
            failure = exc
            response = problem_response(
                errors.HTTPError("the server could not answer this request"), instance, request_id
            )
            result = to_proxy_result(response)
        observability.log_request(
            function=self.function_name,
            request=request,
            request_id=request_id,
            route=getattr(request, "route", ""),
            status=response.status,
            latency_ms=(time.perf_counter() - started) * 1000,
            cold_start=cold_start,
            failure=failure,
        )
        return result
