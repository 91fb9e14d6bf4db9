"""The local gateway's request path as an HTTP API (API Gateway v2): ``make serve API=http``.

For each request, as AWS documents it for HTTP APIs:

- a CORS preflight, when the API has a ``CorsConfiguration``, is answered by
  the gateway itself, route or not ("Configure CORS for HTTP APIs");
- the path is percent-decoded once, then matched against the routes (so
  ``/m%65`` is ``/me`` and ``%2F`` separates segments); the function sees it
  decoded in ``rawPath`` (:mod:`tools.gateway.payload2`);
- no route: 404 ``{"message":"Not Found"}``;
- the JWT authorizer (:mod:`tools.gateway.jwt_authorizer`): a refused token is
  401 ``{"message":"Unauthorized"}`` with a ``www-authenticate`` header saying why;
- a Lambda authorizer with simple responses: its identity sources missing, 401
  without calling it; ``{"isAuthorized": false}``, 403 ``{"message":"Forbidden"}``;
  a failure or another answer, 500; answers cached per identity source values
  for its TTL, whichever route they were given for;
- the function gets a payload 2.0 event (:mod:`tools.gateway.payload2`); an error
  is 500 ``{"message":"Internal Server Error"}``, a timeout 503
  ``{"message":"Service Unavailable"}``;
- with CORS configured, the integration's CORS headers are replaced by the
  configuration's.
"""

from __future__ import annotations

import json

from tools.gateway import payload2
from tools.gateway.api import Route
from tools.gateway.authorizers import Decision, PolicyCache, identity_values
from tools.gateway.httpapi import HttpApi
from tools.gateway.jwt_authorizer import JwtAuthorizer, Refused, claim_strings
from tools.gateway.proxy import HttpRequest, HttpResponse, MalformedResult
from tools.gateway.server import Gateway
from tools.gateway.workers import TIMEOUT, Invocation

NOT_FOUND = (404, "Not Found")
UNAUTHORIZED = (401, "Unauthorized")
FORBIDDEN = (403, "Forbidden")
INTERNAL_ERROR = (500, "Internal Server Error")
UNAVAILABLE = (503, "Service Unavailable")
CORS_RESPONSE_HEADERS = (
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-expose-headers",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
)


def message(status: int, text: str, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    """An HTTP API's own answer: ``{"message": text}``."""
    return HttpResponse(
        status,
        [("Content-Type", "application/json"), *(headers or [])],
        json.dumps({"message": text}, separators=(",", ":")).encode(),
    )


def refusal(
    status_and_text: tuple[int, str], cache: str = "-", invocation: Invocation | None = None, challenge: str = ""
) -> Decision:
    status, text = status_and_text
    return Decision(False, status, text, challenge, cache=cache, invocation=invocation)


class HttpGateway(Gateway):
    """API Gateway's HTTP API request path over the same worker pools as the REST one."""

    def __init__(self, api: HttpApi, pools, console, reloader=None) -> None:
        super().__init__(api, pools, console, reloader)
        self.jwt_authorizers: dict[str, JwtAuthorizer] = {}
        self.answers = PolicyCache()  # Lambda authorizer answers by (authorizer, identity values)

    def _respond(self, request, request_id, invocations):
        request = payload2.decoded_path(request)
        preflight = self._preflight(request)
        if preflight is not None:
            return preflight, "-", "CORS preflight (answered by the gateway)"
        response, cache, note = self._route(request, request_id, invocations)
        response = self._with_cors(request, response)
        response.headers.append(("apigw-requestid", request_id))
        return response, cache, note

    def _route(self, request: HttpRequest, request_id: str, invocations: list[tuple[str, Invocation]]):
        found = self.api.find(request.method, request.path)
        if found is None:
            return message(*NOT_FOUND), "-", "no route"
        route, params = found
        decision = Decision(True)
        if route.authorizer in self.api.jwt:
            decision = self._check_jwt(route, request)
        elif route.authorizer:
            decision = self._ask_lambda_authorizer(route, request, params, request_id)
        if decision.invocation is not None:
            function = self.api.authorizers[route.authorizer].function
            invocations.append((function, decision.invocation))
        if not decision.allowed:
            challenge = [("www-authenticate", decision.error_type)] if decision.error_type else []
            return (
                message(decision.status, decision.message, challenge),
                decision.cache,
                f"{route.authorizer} refused or failed",
            )
        event = payload2.build_event(request, self.api, route, params, request_id, decision.context)
        invocation = self.invoke(route.function, event)
        invocations.append((route.function, invocation))
        note = invocation.describe(route.function)
        if invocation.failure == TIMEOUT:
            return message(*UNAVAILABLE), decision.cache, note
        if invocation.failure:
            return message(*INTERNAL_ERROR), decision.cache, note
        try:
            return payload2.read_result(invocation.result), decision.cache, note
        except MalformedResult as exc:
            return message(*INTERNAL_ERROR), decision.cache, f"{note}; malformed payload 2.0 result: {exc}"

    def _jwt(self, name: str) -> JwtAuthorizer:
        configuration = self.api.jwt[name]
        authorizer = self.jwt_authorizers.get(name)
        if authorizer is None or authorizer.configuration != configuration:
            authorizer = self.jwt_authorizers[name] = JwtAuthorizer(configuration)
        return authorizer

    def _check_jwt(self, route: Route, request: HttpRequest) -> Decision:
        try:
            claims = self._jwt(route.authorizer).claims(request.header("Authorization"))
        except Refused as refused:
            return refusal(
                UNAUTHORIZED, "jwt", challenge=f'Bearer scope="" error="invalid_token" error_description="{refused}"'
            )
        except (OSError, ValueError, KeyError):  # the issuer's keys could not be fetched
            return refusal(UNAUTHORIZED, "jwt (issuer unreachable)")
        return Decision(True, context={"jwt": {"claims": claim_strings(claims), "scopes": None}}, cache="jwt")

    def _ask_lambda_authorizer(
        self, route: Route, request: HttpRequest, params: dict[str, str], request_id: str
    ) -> Decision:
        authorizer = self.api.authorizers[route.authorizer]
        identity = identity_values(authorizer, request, self.api)
        if identity is None:
            return refusal(UNAUTHORIZED)
        key = (authorizer.name, identity)
        answer, cache, invocation = self.answers.get(key), "hit", None
        if answer is None:
            event = payload2.build_event(request, self.api, route, params, request_id)
            event.pop("body", None)
            event.pop("isBase64Encoded", None)
            event = {
                "version": "2.0",
                "type": "REQUEST",
                "routeArn": payload2.route_arn(self.api, request),
                "identitySource": list(identity),
                **event,
            }
            invocation = self.invoke(authorizer.function, event)
            answer = invocation.result
            cache = f"miss [{invocation.describe(authorizer.function)}]"
            if invocation.failure or not isinstance(answer, dict) or not isinstance(answer.get("isAuthorized"), bool):
                return refusal(INTERNAL_ERROR, cache, invocation)
            self.answers.put(key, answer, authorizer.ttl)
        if not answer["isAuthorized"]:
            return refusal(FORBIDDEN, cache, invocation)
        context = answer.get("context") if isinstance(answer.get("context"), dict) else {}
        return Decision(True, context={"lambda": context}, cache=cache, invocation=invocation)

    def _preflight(self, request: HttpRequest) -> HttpResponse | None:
        cors = self.api.cors
        if (
            cors is None
            or request.method != "OPTIONS"
            or not request.header("Origin")
            or not request.header("Access-Control-Request-Method")
        ):
            return None
        headers = []
        origin = cors.origin(request.header("Origin"))
        if origin is not None:
            headers.append(("Access-Control-Allow-Origin", origin))
            if cors.allow_methods:
                headers.append(("Access-Control-Allow-Methods", ",".join(cors.allow_methods)))
            if cors.allow_headers:
                headers.append(("Access-Control-Allow-Headers", ",".join(cors.allow_headers)))
            if cors.max_age is not None:
                headers.append(("Access-Control-Max-Age", str(cors.max_age)))
            if cors.allow_credentials:
                headers.append(("Access-Control-Allow-Credentials", "true"))
        return HttpResponse(204, headers, b"")

    def _with_cors(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        cors = self.api.cors
        if cors is None:
            return response
        headers = [(name, value) for name, value in response.headers if name.lower() not in CORS_RESPONSE_HEADERS]
        origin = cors.origin(request.header("Origin"))
        if origin is not None:
            headers.append(("Access-Control-Allow-Origin", origin))
            if cors.expose_headers:
                headers.append(("Access-Control-Expose-Headers", ",".join(cors.expose_headers)))
            if cors.allow_credentials:
                headers.append(("Access-Control-Allow-Credentials", "true"))
        return HttpResponse(response.status, headers, response.body)
