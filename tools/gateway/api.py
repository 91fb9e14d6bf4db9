"""What the local gateway serves, read from a SAM template: stage, routes, functions and authorizers.

Template values are resolved the way CloudFormation would, from parameter
values (overrides, then defaults) and a few pseudo parameters. A value that
cannot be known locally (a parameter without default, ``!GetAtt``, ``!If``)
leaves its environment variable unset, so the code's local defaults apply.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from tools import samtemplate

LOCAL_STAGE = "local"
SAM_DEFAULT_TIMEOUT = 3
SAM_DEFAULT_MEMORY = 128
DEFAULT_AUTHORIZER_TTL = 300


class TemplateError(ValueError):
    """The template asks for something the local gateway cannot serve."""


@dataclass(frozen=True)
class Function:
    name: str
    handler: str
    timeout: int  # seconds
    memory_mb: int
    environment: dict[str, str]


@dataclass(frozen=True)
class Authorizer:
    """A Lambda authorizer; ``identity`` lists ``(where, name)`` pairs, where is header, query or stage."""

    name: str
    function: str
    payload: str  # TOKEN or REQUEST
    identity: tuple[tuple[str, str], ...]
    ttl: int
    validation: str = ""


@dataclass(frozen=True)
class Route:
    method: str  # GET, ..., or ANY
    path: str  # /users/{user_id}
    function: str
    authorizer: str  # "" when the route is open

    @property
    def segments(self) -> list[str]:
        return split_path(self.path)

    @property
    def resource_id(self) -> str:
        return hashlib.sha1(self.path.encode()).hexdigest()[:6]

    def match(self, segments: list[str]) -> dict[str, str] | None:
        """The path parameters when ``segments`` fit this route's path, else None."""
        params = {}
        for index, part in enumerate(self.segments):
            if part.startswith("{") and part.endswith("+}"):
                rest = segments[index:]
                if not rest:
                    return None
                params[part[1:-2]] = "/".join(rest)
                return params
            if index >= len(segments):
                return None
            if part.startswith("{") and part.endswith("}"):
                params[part[1:-1]] = segments[index]
            elif part != segments[index]:
                return None
        return params if len(segments) == len(self.segments) else None

    def specificity(self) -> tuple[int, ...]:
        """Lower is more specific: literal segments beat parameters, which beat greedy ones."""
        return tuple(2 if part.endswith("+}") else 1 if part.startswith("{") else 0 for part in self.segments)


@dataclass(frozen=True)
class Api:
    stage: str
    routes: tuple[Route, ...]
    functions: dict[str, Function]
    authorizers: dict[str, Authorizer]
    binary_media_types: tuple[str, ...] = ()
    stage_variables: dict[str, str] = field(default_factory=dict)
    api_id: str = "localapi01"
    region: str = samtemplate.PSEUDO["AWS::Region"]
    account_id: str = samtemplate.PSEUDO["AWS::AccountId"]

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route API Gateway would pick for ``method`` on ``path`` and its raw parameters, or None.

        The most specific resource that fits the path wins; then its method, or ANY.
        """
        segments = split_path(path)
        fitting = [(route, params) for route in self.routes if (params := route.match(segments)) is not None]
        if not fitting:
            return None
        best = min(route.specificity() for route, _ in fitting)
        candidates = [(route, params) for route, params in fitting if route.specificity() == best]
        for wanted in (method, "ANY"):
            for route, params in candidates:
                if route.method == wanted:
                    return route, params
        return None

    def method_arn(self, method: str, path: str) -> str:
        """The ``methodArn`` API Gateway gives the authorizer for this request."""
        return (
            f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}/"
            f"{self.stage}/{method}/{path.lstrip('/')}"
        )


def split_path(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


def parameter_values(template: dict, overrides: dict[str, str]) -> dict[str, str]:
    """Pseudo parameters, then each parameter's default, the local stage, then ``overrides``."""
    values = dict(samtemplate.PSEUDO)
    for name, declared in (template.get("Parameters") or {}).items():
        if "Default" in declared:
            values[name] = str(declared["Default"])
    stage = _api_properties(template).get("StageName")
    if isinstance(stage, dict) and "Ref" in stage:
        values[stage["Ref"]] = LOCAL_STAGE
    values.update(overrides)
    return values


def resolve(value, parameters: dict[str, str], template: dict | None = None) -> str | None:
    """``value`` as a string, intrinsic functions resolved (:class:`tools.samtemplate.Evaluator`); None when it
    cannot be known locally (a resource's attribute, a parameter without a value, AWS::NoValue)."""
    try:
        result = samtemplate.Evaluator(template or {}, parameters, strict=True).value(value)
    except (samtemplate.Unevaluable, LookupError, TypeError, ValueError):
        return None
    if isinstance(result, bool):
        return "true" if result else "false"
    return str(result) if isinstance(result, (str, int, float)) else None


def _api_properties(template: dict) -> dict:
    apis = [
        resource
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::Serverless::Api"
    ]
    if len(apis) > 1:
        raise TemplateError("the local gateway serves one AWS::Serverless::Api; the template declares several")
    return apis[0].get("Properties", {}) if apis else {}


def _functions(template: dict, parameters: dict[str, str]) -> dict[str, Function]:
    defaults = (template.get("Globals") or {}).get("Function") or {}
    found = {}
    for name, resource in samtemplate.functions(template).items():
        properties = resource.get("Properties", {})
        declared = {
            **(defaults.get("Environment") or {}).get("Variables", {}),
            **(properties.get("Environment") or {}).get("Variables", {}),
        }
        environment = {key: value for key, raw in declared.items() if (value := resolve(raw, parameters)) is not None}
        found[name] = Function(
            name=name,
            handler=properties["Handler"],
            timeout=int(resolve(properties.get("Timeout", defaults.get("Timeout", SAM_DEFAULT_TIMEOUT)), parameters)),
            memory_mb=int(
                resolve(properties.get("MemorySize", defaults.get("MemorySize", SAM_DEFAULT_MEMORY)), parameters)
            ),
            environment=environment,
        )
    return found


def _identity(name: str, payload: str, identity: dict) -> tuple[tuple[str, str], ...]:
    if payload == "TOKEN":
        return (("header", identity.get("Header", "Authorization")),)
    if identity.get("Context"):
        raise TemplateError(f"authorizer {name}: Identity.Context sources are not emulated locally")
    return (
        *(("header", header) for header in identity.get("Headers", [])),
        *(("query", query) for query in identity.get("QueryStrings", [])),
        *(("stage", variable) for variable in identity.get("StageVariables", [])),
    )


def _authorizers(auth: dict, functions: dict[str, Function]) -> dict[str, Authorizer]:
    found = {}
    for name, declared in (auth.get("Authorizers") or {}).items():
        function = samtemplate.function_of_arn(declared.get("FunctionArn"))
        if function not in functions:
            raise TemplateError(f"authorizer {name} is not a Lambda authorizer of a function in this template")
        payload = declared.get("FunctionPayloadType", "TOKEN").upper()
        identity = declared.get("Identity") or {}
        found[name] = Authorizer(
            name=name,
            function=function,
            payload=payload,
            identity=_identity(name, payload, identity),
            ttl=int(identity.get("ReauthorizeEvery", DEFAULT_AUTHORIZER_TTL)),
            validation=identity.get("ValidationExpression", "") if payload == "TOKEN" else "",
        )
    return found


def _routes(template: dict, auth: dict, authorizers: dict[str, Authorizer]) -> tuple[Route, ...]:
    routes = []
    for function, properties in samtemplate.events(template, "Api"):
        authorizer = (properties.get("Auth") or {}).get("Authorizer", auth.get("DefaultAuthorizer", "NONE"))
        if authorizer != "NONE" and authorizer not in authorizers:
            raise TemplateError(f"{function} {properties['Path']}: authorizer {authorizer} is not emulated")
        routes.append(
            Route(
                properties["Method"].upper(), properties["Path"], function, "" if authorizer == "NONE" else authorizer
            )
        )
    return tuple(routes)


def load(template: dict, overrides: dict[str, str] | None = None) -> Api:
    """The :class:`Api` that ``template`` describes, with ``overrides`` for its parameters."""
    parameters = parameter_values(template, overrides or {})
    properties = _api_properties(template)
    auth = properties.get("Auth") or {}
    functions = _functions(template, parameters)
    authorizers = _authorizers(auth, functions)
    variables = {name: resolve(value, parameters) or "" for name, value in (properties.get("Variables") or {}).items()}
    return Api(
        stage=resolve(properties.get("StageName", "Prod"), parameters) or LOCAL_STAGE,
        routes=_routes(template, auth, authorizers),
        functions=functions,
        authorizers=authorizers,
        binary_media_types=tuple(kind.replace("~1", "/") for kind in properties.get("BinaryMediaTypes") or []),
        stage_variables=variables,
        region=parameters["AWS::Region"],
        account_id=parameters["AWS::AccountId"],
    )
