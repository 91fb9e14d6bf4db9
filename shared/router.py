"""Routes declared as method + path template, dispatched from one Lambda event.

    router = Router("users")

    @router.get("/users/{user_id}")  # behind the authorizer; public=True for a route that needs no token
    def get_user(request):
        return json_response({"id": request.path_params["user_id"]})

    def lambda_handler(event, context):
        return router.dispatch(event, context)
"""

from __future__ import annotations

import re
import time
from collections import namedtuple
from collections.abc import Callable

from shared import cors, errors, observability
from shared.config import Settings, settings
from shared.request import Request
from shared.responses import Response, problem_response, to_proxy_result

Endpoint = Callable[[Request], Response]
PARAMETER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


def compile_template(template: str) -> re.Pattern:
    """``/users/{user_id}`` -> a pattern whose named groups are the path parameters."""
    parts = PARAMETER.split(template)
    pattern = "".join(
        f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part) for index, part in enumerate(parts)
    )
    return re.compile(f"^{pattern}$")


def percent_decoded(params: dict[str, str]) -> dict[str, str]:
    """``params`` with %XX escapes decoded (as UTF-8), the way API Gateway decodes ``pathParameters``."""
    if not params or not any("%" in value for value in params.values()):
        return params
    from urllib.parse import unquote  # only for encoded parameters: it costs 2 ms of a cold start

    return {name: unquote(value) for name, value in params.items()}


# A namedtuple rather than a frozen dataclass, which costs more of a cold start to create.
class Route(namedtuple("Route", "method template endpoint pattern public", defaults=(False,))):
    """A method, a path template, its endpoint and compiled pattern, and whether it is public (no authorizer)."""

    __slots__ = ()

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters when ``path`` fits the template, else None."""
        found = self.pattern.match(path)
        return found.groupdict() if found else None


class Router:
    """The routes of one Lambda function, and the dispatch of its events."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.routes: list[Route] = []
        self.cold_start = True

    def route(self, method: str, template: str, public: bool = False) -> Callable[[Endpoint], Endpoint]:
        """Declare ``endpoint`` as the answer to ``method`` on ``template``; ``public`` routes need no token.

        This declaration is the only one: ``make lint`` checks the template's events, openapi.yaml,
        events/ and the alarms against it (see tools/checks/routes.py).
        """

        def register(endpoint: Endpoint) -> Endpoint:
            self.routes.append(Route(method.upper(), template, endpoint, compile_template(template), public))
            return endpoint

        return register

    def get(self, template: str, public: bool = False) -> Callable[[Endpoint], Endpoint]:
        return self.route("GET", template, public)

    def patch(self, template: str, public: bool = False) -> Callable[[Endpoint], Endpoint]:
        return self.route("PATCH", template, public)

    def delete(self, template: str, public: bool = False) -> Callable[[Endpoint], Endpoint]:
        return self.route("DELETE", template, public)

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
            return cors.preflight_response(request.headers, allowed, config)
        route, params = self.find(request.method, path)
        # A REST API (1.0) passes the path as the client encoded it; an HTTP API (2.0) decodes it first.
        request.path_params = params if request.payload_version == "2.0" else percent_decoded(params)
        request.route = route.template
        return route.endpoint(request)

    def dispatch(self, event, context) -> dict:
        """Answer one API Gateway event. Never raises: every failure, bad settings included, is a problem response."""
        started = time.perf_counter()
        cold_start, self.cold_start = self.cold_start, False
        request, config, failure = None, None, None
        request_id = getattr(context, "aws_request_id", "") or ""
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
            error = errors.HTTPError("the server could not answer this request")
            response = problem_response(error, instance, request_id)
        if request is not None and config is not None:
            cors.add_response_headers(response.headers, request.headers, config)
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
        return to_proxy_result(response)
