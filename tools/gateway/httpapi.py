"""An HTTP API (API Gateway v2) template, as derived by :mod:`tools.httpapi`, read for the local gateway.

What the gateway serves differently from a REST API is in :mod:`tools.gateway.http_gateway`
(the request path), :mod:`tools.gateway.payload2` (payload format 2.0) and
:mod:`tools.gateway.jwt_authorizer` (API Gateway's JWT authorizer).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from tools import samtemplate
from tools.gateway import api as api_model
from tools.gateway.api import Api, Authorizer, Route, TemplateError
from tools.gateway.jwt_authorizer import JwtConfiguration
from tools.gateway.payload2 import DEFAULT_STAGE

IDENTITY_SOURCE = "$request.header.Authorization"


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
class HttpApi(Api):
    """An :class:`~tools.gateway.api.Api` served as an HTTP API; its ``authorizers`` are the Lambda ones."""

    cors: Cors | None = None
    jwt: dict[str, JwtConfiguration] = field(default_factory=dict)


def _condition(name: str, template: dict, parameters: dict[str, str]) -> bool:
    return samtemplate.Evaluator(template, parameters).condition(name)


def _value(value, template: dict, parameters: dict[str, str]):
    """A template value with its intrinsics resolved (:class:`tools.samtemplate.Evaluator`); None for AWS::NoValue
    or what cannot be known locally."""
    if isinstance(value, list):
        return [_value(item, template, parameters) for item in value]
    if isinstance(value, dict) and not any(key.startswith("Fn::") or key in ("Ref", "Condition") for key in value):
        return {key: _value(item, template, parameters) for key, item in value.items()}
    try:
        result = samtemplate.Evaluator(template, parameters, strict=True).value(value)
    except (samtemplate.Unevaluable, LookupError, TypeError, ValueError):
        return None
    return None if result is samtemplate.NO_VALUE else result


def _http_api_properties(template: dict) -> dict:
    apis = [
        resource
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::Serverless::HttpApi"
    ]
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
    return Cors(
        origins,
        tuple(method.upper() for method in declared.get("AllowMethods") or []),
        tuple(name.lower() for name in declared.get("AllowHeaders") or []),
        tuple(name.lower() for name in declared.get("ExposeHeaders") or []),
        declared.get("MaxAge"),
        bool(declared.get("AllowCredentials")),
    )


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
        sources = (
            *(("header", header) for header in identity.get("Headers", [])),
            *(("query", query) for query in identity.get("QueryStrings", [])),
        )
        lambdas[name] = Authorizer(name, function, "HTTP", tuple(sources), int(identity.get("ReauthorizeEvery", 0)))
    return lambdas, jwts


def _routes(template: dict, default: str, known: set[str]) -> tuple[Route, ...]:
    routes = []
    for function, properties in samtemplate.events(template, "HttpApi"):
        if str(properties.get("PayloadFormatVersion", "2.0")) != "2.0":
            raise TemplateError(f"{function} {properties['Path']}: only payload format 2.0 is emulated")
        authorizer = (properties.get("Auth") or {}).get("Authorizer", default)
        if authorizer != "NONE" and authorizer not in known:
            raise TemplateError(f"{function} {properties['Path']}: authorizer {authorizer} is not declared")
        routes.append(
            Route(
                properties["Method"].upper(), properties["Path"], function, "" if authorizer == "NONE" else authorizer
            )
        )
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
