"""A route's Lambda authorizer, run and cached the way API Gateway does it for REST APIs.

- Missing identity sources (or a token that fails ``ValidationExpression``)
  give 401 without calling the authorizer.
- The authorizer's policy is cached per identity source values for the
  template's ``ReauthorizeEvery`` seconds, whichever route it was asked for,
  and each later request checks its own method ARN against the cached policy.
  So a policy scoped to one route denies the caller's other routes (403) until
  the entry expires, exactly as on AWS.
- The error ``Unauthorized`` gives 401 (not cached); any other failure, or an
  answer that is not a valid policy, gives 500.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tools.gateway import policy
from tools.gateway.api import Api, Authorizer, Route
from tools.gateway.proxy import HttpRequest, build_event
from tools.gateway.workers import ERROR, Invocation

UNAUTHORIZED = "Unauthorized"


@dataclass(frozen=True)
class Decision:
    """Whether the request goes on; if not, the gateway response to give. ``cache`` is hit, miss or -."""

    allowed: bool
    status: int = 200
    message: str | None = None
    error_type: str = ""
    context: dict | None = None  # requestContext.authorizer for the integration
    cache: str = "-"
    invocation: Invocation | None = None  # the authorizer's, on a cache miss


def unauthorized(cache: str = "-", invocation: Invocation | None = None) -> Decision:
    return Decision(False, 401, UNAUTHORIZED, "UnauthorizedException", cache=cache, invocation=invocation)


def configuration_error(invocation: Invocation) -> Decision:
    return Decision(False, 500, None, "AuthorizerConfigurationException", cache="miss", invocation=invocation)


class PolicyCache:
    """Authorizer answers by (authorizer, identity values), each kept for its authorizer's TTL."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.entries: dict[tuple, tuple[float, policy.AuthorizerAnswer]] = {}
        self.lock = threading.Lock()

    def get(self, key: tuple) -> policy.AuthorizerAnswer | None:
        with self.lock:
            expires_at, answer = self.entries.get(key, (0.0, None))
            if answer is not None and self.clock() >= expires_at:
                del self.entries[key]
                return None
            return answer

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def put(self, key: tuple, answer: policy.AuthorizerAnswer, ttl: int) -> None:
        if ttl > 0:
            with self.lock:
                self.entries[key] = (self.clock() + ttl, answer)


def identity_values(authorizer: Authorizer, request: HttpRequest, api: Api) -> tuple[str, ...] | None:
    """The values of the authorizer's identity sources, or None when one is missing or empty."""
    query = dict(request.query)
    values = []
    for where, name in authorizer.identity:
        if where == "header":
            value = request.header(name)
        elif where == "query":
            value = query.get(name)
        else:
            value = api.stage_variables.get(name)
        if not value:
            return None
        values.append(value)
    return tuple(values)


def authorizer_event(
    authorizer: Authorizer,
    request: HttpRequest,
    api: Api,
    route: Route,
    params: dict[str, str],
    request_id: str,
    identity: tuple[str, ...],
) -> dict:
    """The TOKEN or REQUEST event API Gateway sends the authorizer."""
    method_arn = api.method_arn(request.method, request.path)
    if authorizer.payload == "TOKEN":
        return {"type": "TOKEN", "methodArn": method_arn, "authorizationToken": identity[0]}
    event = build_event(request, api, route, params, request_id)
    del event["body"], event["isBase64Encoded"]
    return {"type": "REQUEST", "methodArn": method_arn, **event}


def integration_context(answer: policy.AuthorizerAnswer, latency_ms: int) -> dict:
    """``requestContext.authorizer`` as a REST API integration receives it: flat, values as strings."""
    return {**answer.context, "principalId": answer.principal_id, "integrationLatency": latency_ms}


class Authorization:
    """Decides, for each request to a guarded route, as API Gateway's authorizer step does."""

    def __init__(self, api: Api, invoke: Callable[[str, dict], Invocation], log: Callable[[str], None]) -> None:
        self.api = api
        self.invoke = invoke  # (function name, event) -> Invocation
        self.log = log
        self.cache = PolicyCache()

    def _ask(self, authorizer: Authorizer, event: dict) -> tuple[policy.AuthorizerAnswer | Decision, Invocation]:
        invocation = self.invoke(authorizer.function, event)
        if invocation.failure == ERROR and invocation.detail == UNAUTHORIZED:
            return unauthorized("miss", invocation), invocation
        if invocation.failure:
            return configuration_error(invocation), invocation
        try:
            return policy.read_answer(invocation.result), invocation
        except policy.MalformedAuthorizerAnswer as exc:
            self.log(f"authorizer {authorizer.name} answered no valid policy: {exc}")
            return configuration_error(invocation), invocation

    def decide(self, route: Route, request: HttpRequest, params: dict[str, str], request_id: str) -> Decision:
        """Run (or reuse) the route's authorizer and apply its policy to this request's method ARN."""
        authorizer = self.api.authorizers[route.authorizer]
        identity = identity_values(authorizer, request, self.api)
        if identity is None:
            return unauthorized()
        if authorizer.validation and not re.fullmatch(authorizer.validation, identity[0]):
            return unauthorized()
        key = (authorizer.name, identity)
        answer, cache, invocation, latency_ms = self.cache.get(key), "hit", None, 0
        if answer is None:
            cache, started = "miss", time.perf_counter()
            event = authorizer_event(authorizer, request, self.api, route, params, request_id, identity)
            answer, invocation = self._ask(authorizer, event)
            latency_ms = round((time.perf_counter() - started) * 1000)
            if isinstance(answer, Decision):
                return answer
            self.cache.put(key, answer, authorizer.ttl)
        verdict = policy.evaluate(answer, self.api.method_arn(request.method, request.path))
        if verdict == policy.EXPLICIT_DENY:
            message = "User is not authorized to access this resource with an explicit deny"
            return Decision(False, 403, message, "AccessDeniedException", cache=cache, invocation=invocation)
        if verdict == policy.IMPLICIT_DENY:
            message = "User is not authorized to access this resource"
            return Decision(False, 403, message, "AccessDeniedException", cache=cache, invocation=invocation)
        return Decision(True, context=integration_context(answer, latency_ms), cache=cache, invocation=invocation)
