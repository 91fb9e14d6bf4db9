"""The local gateway as an HTTP API (API Gateway v2) serves a template derived by :mod:`tools.httpapi`.

What differs from the REST API emulation, each as AWS documents it for HTTP APIs:

- one ``$default`` stage: paths carry no stage prefix; unknown routes get
  404 ``{"message":"Not Found"}``;
- payload format 2.0 events (``routeKey``, ``rawPath``, lower-case headers,
  repeated values joined with commas, ``cookies``) and 2.0 results;
- the JWT authorizer (:class:`JwtAuthorizer`), run by the gateway itself:
  no function runs for it; a refused token gets 401 ``{"message":"Unauthorized"}``
  with a ``www-authenticate`` header saying why;
- a Lambda authorizer with simple responses (``{"isAuthorized": ...}``),
  cached per identity source values for its TTL; ``false`` gets 403
  ``{"message":"Forbidden"}``, a failure 500;
- CORS from the API's ``CorsConfiguration``: the gateway answers preflights
  itself and replaces the functions' own CORS headers with its own.
"""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import unquote

from tools import samtemplate
from tools.gateway import api as api_model
from tools.gateway.api import Api, Authorizer, Route, TemplateError
from tools.gateway.authorizers import PolicyCache, identity_values
from tools.gateway.proxy import FRAMING_HEADERS, HttpRequest, HttpResponse, MalformedResult, _header_value
from tools.gateway.server import Gateway
from tools.gateway.workers import TIMEOUT, Invocation

DEFAULT_STAGE = "$default"
IDENTITY_SOURCE = "$request.header.Authorization"
JWKS_CACHE_SECONDS = 2 * 3600  # API Gateway may cache an issuer's public keys for two hours
RSA_ALGORITHMS = ("RS256", "RS384", "RS512")
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
              "application/x-www-form-urlencoded", "application/problem+json", "application/merge-patch+json")
RESULT_KEYS = {"statusCode", "headers", "body", "isBase64Encoded", "cookies"}
CORS_RESPONSE_HEADERS = ("access-control-allow-origin", "access-control-allow-credentials",
                         "access-control-expose-headers", "access-control-allow-methods",
                         "access-control-allow-headers", "access-control-max-age")


@dataclass(frozen=True)
class Cors:
    """An HTTP API's ``CorsConfiguration``; names lower-case, methods upper-case."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    def origin(self, origin: str | None) -> str | None:
        """The ``Access-Control-Allow-Origin`` for ``origin``, or None when it is not allowed."""
        if not origin:
            return None
        if origin in self.allow_origins:
            return origin
        return "*" if "*" in self.allow_origins else None


@dataclass(frozen=True)
class JwtConfiguration:
    name: str
    issuer: str
    audience: tuple[str, ...]


@dataclass(frozen=True)
class HttpApi(Api):
    """An :class:`~tools.gateway.api.Api` served as an HTTP API; its ``authorizers`` are the Lambda ones."""

    cors: Cors | None = None
    jwt: dict[str, JwtConfiguration] = field(default_factory=dict)


# Loading the derived template

def _condition(name: str, template: dict, parameters: dict[str, str]) -> bool:
    def evaluate(expression) -> bool | str | None:
        if not isinstance(expression, dict):
            return api_model.resolve(expression, parameters)
        (function, argument), = expression.items()
        if function == "Fn::Not":
            return not evaluate(argument[0])
        if function == "Fn::And":
            return all(evaluate(item) for item in argument)
        if function == "Fn::Or":
            return any(evaluate(item) for item in argument)
        if function == "Fn::Equals":
            return evaluate(argument[0]) == evaluate(argument[1])
        if function == "Condition":
            return _condition(argument, template, parameters)
        return api_model.resolve(expression, parameters)
    return bool(evaluate(template.get("Conditions", {}).get(name)))


def _value(value, template: dict, parameters: dict[str, str]):
    """A template value with Ref, Fn::If, Fn::Split and Fn::Sub resolved (None for AWS::NoValue or unknown)."""
    if isinstance(value, list):
        return [_value(item, template, parameters) for item in value]
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), = value.items()
        if function == "Ref" and argument == "AWS::NoValue":
            return None
        if function == "Fn::If":
            chosen = argument[1] if _condition(argument[0], template, parameters) else argument[2]
            return _value(chosen, template, parameters)
        if function == "Fn::Split":
            text = _value(argument[1], template, parameters)
            return None if text is None else str(text).split(argument[0])
    if isinstance(value, dict) and not any(key.startswith("Fn::") or key == "Ref" for key in value):
        return {key: _value(item, template, parameters) for key, item in value.items()}
    return api_model.resolve(value, parameters) if isinstance(value, dict) else value


def _http_api_properties(template: dict) -> dict:
    apis = [resource for resource in template.get("Resources", {}).values()
            if resource.get("Type") == "AWS::Serverless::HttpApi"]
    if len(apis) != 1:
        raise TemplateError("the HTTP API flavour serves one AWS::Serverless::HttpApi (see tools/httpapi.py)")
    properties = apis[0].get("Properties", {})
    if properties.get("StageName") not in (None, DEFAULT_STAGE):
        raise TemplateError("the HTTP API is served on its $default stage: remove StageName")
    return properties


def _cors(properties: dict, template: dict, parameters: dict[str, str]) -> Cors | None:
    declared = _value(properties.get("CorsConfiguration"), template, parameters)
    if not declared:
        return None
    origins = tuple(origin.strip() for origin in declared.get("AllowOrigins") or [] if origin and origin.strip())
    if not origins:
        return None
    return Cors(origins, tuple(method.upper() for method in declared.get("AllowMethods") or []),
                tuple(name.lower() for name in declared.get("AllowHeaders") or []),
                tuple(name.lower() for name in declared.get("ExposeHeaders") or []),
                declared.get("MaxAge"), bool(declared.get("AllowCredentials")))


def _authorizers(auth: dict, functions: dict, template: dict, parameters: dict[str, str]):
    lambdas, jwts = {}, {}
    for name, declared in (auth.get("Authorizers") or {}).items():
        if "JwtConfiguration" in declared:
            if declared.get("IdentitySource", IDENTITY_SOURCE) != IDENTITY_SOURCE:
                raise TemplateError(f"authorizer {name}: only {IDENTITY_SOURCE} is emulated as a JWT identity source")
            configuration = _value(declared["JwtConfiguration"], template, parameters)
            audience = tuple(item for item in configuration.get("audience") or [] if item)
            jwts[name] = JwtConfiguration(name, configuration.get("issuer") or "", audience)
            continue
        function = samtemplate.function_of_arn(declared.get("FunctionArn"))
        if function not in functions:
            raise TemplateError(f"authorizer {name} is neither a JWT authorizer nor a function of this template")
        simple = declared.get("EnableSimpleResponses") is True
        if str(declared.get("AuthorizerPayloadFormatVersion")) != "2.0" or not simple:
            raise TemplateError(f"authorizer {name}: only payload 2.0 with simple responses is emulated")
        identity = declared.get("Identity") or {}
        sources = (*(("header", header) for header in identity.get("Headers", [])),
                   *(("query", query) for query in identity.get("QueryStrings", [])))
        lambdas[name] = Authorizer(name, function, "HTTP", tuple(sources), int(identity.get("ReauthorizeEvery", 0)))
    return lambdas, jwts


def _routes(template: dict, default: str, known: set[str]) -> tuple[Route, ...]:
    routes = []
    for function, resource in samtemplate.functions(template).items():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            properties = event.get("Properties", {})
            if str(properties.get("PayloadFormatVersion", "2.0")) != "2.0":
                raise TemplateError(f"{function} {properties['Path']}: only payload format 2.0 is emulated")
            authorizer = (properties.get("Auth") or {}).get("Authorizer", default)
            if authorizer != "NONE" and authorizer not in known:
                raise TemplateError(f"{function} {properties['Path']}: authorizer {authorizer} is not declared")
            routes.append(Route(properties["Method"].upper(), properties["Path"], function,
                                "" if authorizer == "NONE" else authorizer))
    return tuple(routes)


def load(template: dict, overrides: dict[str, str] | None = None, environ=os.environ) -> HttpApi:
    """The :class:`HttpApi` an HTTP API template describes; the functions' ``STAGE`` is ``local`` unless overridden.

    ``CORS_ALLOW_ORIGINS`` from the shell stands for ``CorsAllowOrigins``, as it
    overrides the functions' own variable.
    """
    overrides = {"StageName": api_model.LOCAL_STAGE, **(overrides or {})}
    if environ.get("CORS_ALLOW_ORIGINS") and "CorsAllowOrigins" not in overrides:
        overrides["CorsAllowOrigins"] = environ["CORS_ALLOW_ORIGINS"]
    parameters = api_model.parameter_values(template, overrides)
    properties = _http_api_properties(template)
    auth = properties.get("Auth") or {}
    functions = api_model._functions(template, parameters)
    lambdas, jwts = _authorizers(auth, functions, template, parameters)
    return HttpApi(
        stage=DEFAULT_STAGE,
        routes=_routes(template, auth.get("DefaultAuthorizer", "NONE"), set(lambdas) | set(jwts)),
        functions=functions,
        authorizers=lambdas,
        region=parameters["AWS::Region"],
        account_id=parameters["AWS::AccountId"],
        cors=_cors(properties, template, parameters),
        jwt=jwts,
    )


# Payload format 2.0

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
    return (f"arn:aws:execute-api:{api.region}:{api.account_id}:{api.api_id}/{DEFAULT_STAGE}/"
            f"{request.method}{request.path}")


def request_context(request: HttpRequest, api: Api, route: Route, request_id: str, now: float) -> dict:
    host = request.header("Host") or "localhost"
    return {
        "accountId": api.account_id,
        "apiId": api.api_id,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
        "http": {"method": request.method, "path": request.path, "protocol": "HTTP/1.1",
                 "sourceIp": request.source_ip, "userAgent": request.header("User-Agent") or ""},
        "requestId": request_id,
        "routeKey": route_key(route),
        "stage": DEFAULT_STAGE,
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }


def build_event(request: HttpRequest, api: Api, route: Route, raw_params: dict[str, str], request_id: str,
                authorizer: dict | None = None, now: float | None = None) -> dict:
    """The payload format 2.0 event for ``request`` on ``route``; ``authorizer`` as the integration sees it."""
    now = time.time() if now is None else now
    cookies = [part.strip() for name, value in request.headers if name.lower() == "cookie"
               for part in value.split(";") if part.strip()]
    headers = _joined([(name, value) for name, value in request.headers if name.lower() != "cookie"], lower=True)
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    context = request_context(request, api, route, request_id, now)
    if authorizer is not None:
        context["authorizer"] = authorizer
    event = {"version": "2.0", "routeKey": route_key(route), "rawPath": request.path,
             "rawQueryString": request.target.partition("?")[2]}
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
    headers = [(name, _header_value(name, value)) for name, value in declared.items()
               if name.lower() not in FRAMING_HEADERS]
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


# Answers of API Gateway itself

def message(status: int, text: str, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    """An HTTP API's own answer: ``{"message": text}``."""
    return HttpResponse(status, [("Content-Type", "application/json"), *(headers or [])],
                        json.dumps({"message": text}, separators=(",", ":")).encode())


NOT_FOUND = (404, "Not Found")
UNAUTHORIZED = (401, "Unauthorized")
FORBIDDEN = (403, "Forbidden")
INTERNAL_ERROR = (500, "Internal Server Error")
UNAVAILABLE = (503, "Service Unavailable")  # the integration timed out


# The JWT authorizer

class Refused(Exception):
    """The JWT authorizer refuses the token; the message is its ``error_description``."""


class JwtAuthorizer:
    """Validates a JWT as API Gateway documents it for HTTP APIs, against the issuer's published keys.

    The keys come from the ``jwks_uri`` of ``<issuer>/.well-known/openid-configuration``,
    kept :data:`JWKS_CACHE_SECONDS` and fetched again for an unknown ``kid``.
    """

    def __init__(self, configuration: JwtConfiguration, clock=time.time, fetch=None) -> None:
        self.configuration = configuration
        self.clock = clock
        self.fetch = fetch or _fetch_json
        self.keys: dict[str, object] = {}
        self.fetched_at = float("-inf")

    def _signing_keys(self, kid: str, force: bool) -> dict:
        import jwt

        if force or self.clock() - self.fetched_at > JWKS_CACHE_SECONDS:
            discovery = self.fetch(self.configuration.issuer.rstrip("/") + "/.well-known/openid-configuration")
            document = self.fetch(discovery["jwks_uri"])
            self.keys = {}
            for entry in document.get("keys", []):
                if entry.get("kty") == "RSA" and entry.get("kid"):
                    self.keys[entry["kid"]] = jwt.PyJWK(entry, algorithm=entry.get("alg") or "RS256")
            self.fetched_at = self.clock()
        return self.keys

    def claims(self, authorization: str | None) -> dict:
        """The token's claims when API Gateway would accept it; :class:`Refused` saying why otherwise."""
        import jwt

        token = (authorization or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Refused("the token could not be decoded") from None
        if header.get("alg") not in RSA_ALGORITHMS:
            raise Refused("the token's algorithm is not supported (RSA only)")
        kid = header.get("kid") or ""
        keys = self._signing_keys(kid, force=False)
        if kid not in keys:
            keys = self._signing_keys(kid, force=True)
        if kid not in keys:
            raise Refused("the token's kid does not match a key of the issuer")
        try:
            claims = jwt.decode(token, keys[kid], algorithms=[header["alg"]],
                                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                                         "verify_aud": False, "verify_iss": False})
        except jwt.PyJWTError:
            raise Refused("the token's signature is invalid") from None
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: dict) -> None:
        now = self.clock()
        if claims.get("iss") != self.configuration.issuer:
            raise Refused("the token does not have a valid issuer")
        audience = claims.get("aud", claims.get("client_id"))
        audiences = audience if isinstance(audience, list) else [audience]
        if not set(audiences) & set(self.configuration.audience):
            raise Refused("the token does not have a valid audience")
        for claim, fails in (("exp", lambda value: value <= now), ("nbf", lambda value: value > now),
                             ("iat", lambda value: value > now)):
            value = claims.get(claim)
            if value is None and claim != "exp":
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool) or fails(value):
                raise Refused(f"the token's {claim} claim is not valid" if claim != "exp" else "the token has expired")


def _fetch_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:  # the issuer the template names
        return json.loads(response.read())


def claim_strings(claims: dict) -> dict[str, str]:
    """Claims as an HTTP API hands them to the integration: every value a string, arrays as ``[a b]``."""
    def text(value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return "[" + " ".join(text(item) for item in value) + "]"
        if isinstance(value, dict):
            return json.dumps(value, separators=(",", ":"))
        return str(value)
    return {name: text(value) for name, value in claims.items()}


# The request path

class HttpGateway(Gateway):
    """API Gateway's HTTP API request path: route, authorizer, CORS, payload 2.0."""

    def __init__(self, api: HttpApi, pools, console, reloader=None) -> None:
        super().__init__(api, pools, console, reloader)
        self.jwt_authorizers: dict[str, JwtAuthorizer] = {}
        self.answers = PolicyCache()  # Lambda authorizer answers by (authorizer, identity values)

    def _jwt(self, name: str) -> JwtAuthorizer:
        configuration = self.api.jwt[name]
        authorizer = self.jwt_authorizers.get(name)
        if authorizer is None or authorizer.configuration != configuration:
            authorizer = self.jwt_authorizers[name] = JwtAuthorizer(configuration)
        return authorizer

    def _preflight(self, request: HttpRequest) -> HttpResponse | None:
        cors = self.api.cors
        if cors is None or request.method != "OPTIONS" or not request.header("Origin") \
                or not request.header("Access-Control-Request-Method"):
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

    def _respond(self, request, request_id, invocations):
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
        authorizer, cache = None, "-"
        if route.authorizer in self.api.jwt:
            try:
                claims = self._jwt(route.authorizer).claims(request.header("Authorization"))
            except Refused as refused:
                challenge = f'Bearer scope="" error="invalid_token" error_description="{refused}"'
                return message(*UNAUTHORIZED, [("www-authenticate", challenge)]), "jwt", f"{route.authorizer} " \
                    f"refused: {refused}"
            except (OSError, ValueError, KeyError) as exc:
                return message(*UNAUTHORIZED), "jwt", f"{route.authorizer}: the issuer's keys are unreachable ({exc})"
            authorizer, cache = {"jwt": {"claims": claim_strings(claims), "scopes": None}}, "jwt"
        elif route.authorizer:
            decided = self._lambda_authorizer(route, request, params, request_id, invocations)
            if isinstance(decided[0], HttpResponse):
                return decided
            authorizer, cache = decided[0], decided[1]
        event = build_event(request, self.api, route, params, request_id, authorizer)
        invocation = self.invoke(route.function, event)
        invocations.append((route.function, invocation))
        note = invocation.describe(route.function)
        if invocation.failure == TIMEOUT:
            return message(*UNAVAILABLE), cache, note
        if invocation.failure:
            return message(*INTERNAL_ERROR), cache, note
        try:
            return read_result(invocation.result), cache, note
        except MalformedResult as exc:
            return message(*INTERNAL_ERROR), cache, f"{note}; malformed payload 2.0 result: {exc}"

    def _lambda_authorizer(self, route, request, params, request_id, invocations):
        authorizer = self.api.authorizers[route.authorizer]
        identity = identity_values(authorizer, request, self.api)
        if identity is None:
            return message(*UNAUTHORIZED), "-", f"{authorizer.name}: identity source missing"
        key = (authorizer.name, identity)
        answer, cache = self.answers.get(key), "hit"
        if answer is None:
            cache = "miss"
            event = build_event(request, self.api, route, params, request_id)
            event.pop("body", None)
            event.pop("isBase64Encoded", None)
            event = {"version": "2.0", "type": "REQUEST", "routeArn": route_arn(self.api, request),
                     "identitySource": list(identity), **event}
            invocation = self.invoke(authorizer.function, event)
            invocations.append((authorizer.function, invocation))
            cache += f" [{invocation.describe(authorizer.function)}]"
            answer = invocation.result
            if invocation.failure or not isinstance(answer, dict) or not isinstance(answer.get("isAuthorized"), bool):
                return message(*INTERNAL_ERROR), cache, f"{authorizer.name} failed or gave no simple response"
            self.answers.put(key, answer, authorizer.ttl)
        if not answer["isAuthorized"]:
            return message(*FORBIDDEN), cache, f"{authorizer.name} refused"
        context = answer.get("context") if isinstance(answer.get("context"), dict) else {}
        return {"lambda": context}, cache

