"""The local gateway's request path, and the HTTP server in front of it.

For each request: find the route (403 ``Missing Authentication Token`` when
none fits, as a REST API answers), run the route's authorizer (or reuse its
cached policy), build the REST API proxy event, invoke the function on a warm
worker and turn its proxy result back into HTTP. Failures get API Gateway's
own status codes and bodies. One line per request, through a
:class:`~tools.gateway.console.Console`.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tools.gateway import apidocs
from tools.gateway.api import Api
from tools.gateway.authorizers import Authorization
from tools.gateway.console import Console
from tools.gateway.proxy import HttpRequest, HttpResponse, MalformedResult, build_event, read_result
from tools.gateway.workers import CRASH, TIMEOUT, Invocation, Pool

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


def gateway_response(status: int, message: str | None, error_type: str) -> HttpResponse:
    """An answer of API Gateway itself, with its ``{"message": ...}`` body."""
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type)]
    return HttpResponse(status, headers, json.dumps({"message": message}).encode())


def gateway_cors_headers(api: Api, request: HttpRequest) -> list[tuple[str, str]]:
    """What the template's GatewayResponses add to API Gateway's own answers: the caller's Origin, echoed,
    when the functions have CORS origins (CORS_ALLOW_ORIGINS as they see it); else nothing."""
    function = next(iter(api.functions.values()), None)
    origins = {**function.environment, **os.environ}.get("CORS_ALLOW_ORIGINS", "") if function else ""
    origin = next((value for name, value in request.headers if name.lower() == "origin"), "")
    if not origins.strip() or not origin:
        return []
    return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]


MISSING_TOKEN = ("Missing Authentication Token", "MissingAuthenticationTokenException")
INTERNAL_ERROR = ("Internal server error", "InternalServerErrorException")
TIMED_OUT = ("Endpoint request timed out", "InternalServerErrorException")


class Gateway:
    """API Gateway's request path for one :class:`Api`, over one worker pool per function."""

    def __init__(self, api: Api, pools: dict[str, Pool], console: Console, reloader=None) -> None:
        self.api = api
        self.pools = pools
        self.console = console
        self.authorization = Authorization(api, self.invoke, console.log)
        self.reloader = reloader  # a tools.gateway.reload.Reloader, or None
        if reloader is not None:
            reloader.start(api)

    def invoke(self, function: str, event: dict) -> Invocation:
        """Invoke ``function`` on a free worker, with a Lambda request id of its own."""
        pool = self.pools.get(function)
        if pool is None:  # a reload removed it while this request was on its way
            return Invocation(failure=CRASH, detail=f"{function} is no longer in the template")
        return pool.invoke(event, str(uuid.uuid4()))

    def handle(self, request: HttpRequest) -> HttpResponse:
        """The response to one HTTP request; logs one line."""
        started = time.perf_counter()
        if self.reloader is not None:
            self.reloader.check(self)
        request_id = str(uuid.uuid4())
        invocations: list[tuple[str, Invocation]] = []
        response, cache, note = apidocs.answer(request, self.api), "-", "API docs"
        if response is None:
            response, cache, note = self._respond(request, request_id, invocations)
        if any(name == "x-amzn-ErrorType" for name, _ in response.headers):  # made by the gateway itself
            response.headers += gateway_cors_headers(self.api, request)
        response.headers.append(("x-amzn-RequestId", request_id))
        latency_ms = (time.perf_counter() - started) * 1000
        line = f"{request.method} {request.path} {response.status} {latency_ms:.1f} ms authorizer={cache} {note}"
        self.console.request(line, invocations)
        return response

    def _respond(
        self, request: HttpRequest, request_id: str, invocations: list[tuple[str, Invocation]]
    ) -> tuple[HttpResponse, str, str]:
        """The response, the authorizer cache note and the request's note; ``invocations`` gets what ran."""
        found = self.api.find(request.method, request.path)
        if found is None:
            return gateway_response(403, *MISSING_TOKEN), "-", "no route"
        route, params = found
        context, cache = None, "-"
        if route.authorizer:
            decision = self.authorization.decide(route, request, params, request_id)
            cache = decision.cache
            if decision.invocation is not None:
                function = self.api.authorizers[route.authorizer].function
                invocations.append((function, decision.invocation))
                cache += f" [{decision.invocation.describe(function)}]"
            if not decision.allowed:
                response = gateway_response(decision.status, decision.message, decision.error_type)
                verdict = "failed" if decision.status >= 500 else "refused"
                return response, cache, f"{route.authorizer} {verdict}"
            context = decision.context
        event = build_event(request, self.api, route, params, request_id, context)
        invocation = self.invoke(route.function, event)
        invocations.append((route.function, invocation))
        note = invocation.describe(route.function)
        if invocation.failure == TIMEOUT:
            return gateway_response(504, *TIMED_OUT), cache, note
        if invocation.failure:
            return gateway_response(502, *INTERNAL_ERROR), cache, note
        try:
            return read_result(invocation.result), cache, note
        except MalformedResult as exc:
            return gateway_response(502, *INTERNAL_ERROR), cache, f"{note}; Malformed Lambda proxy response: {exc}"


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; every method goes to the gateway."""

    protocol_version = "HTTP/1.1"
    server_version = "bare-api-local-gateway"
    disable_nagle_algorithm = True  # headers and body are two writes: without this, keep-alive waits ~40 ms each

    def _read_chunked(self) -> bytes:
        body = b""
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():  # trailers
                    pass
                return body
            body += self.rfile.read(size)
            self.rfile.readline()
            if len(body) > MAX_BODY_BYTES:
                raise OverflowError

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY_BYTES:
            raise OverflowError
        return self.rfile.read(length)

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except OverflowError:
            self.close_connection = True
            self._send(gateway_response(413, "Request Too Long", "RequestTooLargeException"))
            return
        except ValueError:
            self.close_connection = True
            self._send(gateway_response(400, "Bad Request", "BadRequestException"))
            return
        request = HttpRequest(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
        self._send(self.server.gateway.handle(request))

    def __getattr__(self, name: str):
        # Every method (TRACE and made-up ones too) goes to the gateway, which has no route for most of them.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format, *args) -> None:  # the gateway logs its own lines
        pass


def make_server(host: str, port: int) -> ThreadingHTTPServer:
    """A threaded HTTP server bound to ``host:port``, not yet serving: set its ``gateway`` first.

    Binding comes first so that a busy port is reported before anything else starts.
    """
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.gateway = None
    return server
