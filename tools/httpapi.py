"""The HTTP API (API Gateway v2) templates, derived from ``template.yaml``: ``python -m tools.httpapi``.

``template.yaml`` declares the REST API; this module rewrites it, by rule, into
the two HTTP API templates (``make lint`` says when they are stale):

- ``template-http.yaml``: API Gateway's own JWT authorizer, for a JWKS issuer
  (``JwtIssuer`` + ``JwtAudience``); no authorizer function is deployed.
- ``template-http-lambda.yaml``: the authorizer function as an HTTP API Lambda
  authorizer (REQUEST, payload 2.0, simple responses), for an HS256 secret.

The rules, each applied to whatever the REST template holds:

- the ``AWS::Serverless::Api`` becomes an ``AWS::Serverless::HttpApi`` of the
  same logical id: no stage name (SAM then creates the ``$default`` stage with
  automatic deployment), ``MethodSettings`` become ``DefaultRouteSettings`` or
  ``RouteSettings``, ``AccessLogSetting`` becomes ``AccessLogSettings`` (its
  ``$context`` variables mapped), CORS becomes ``CorsConfiguration`` (from the
  ``CorsAllowOrigins`` parameter and :mod:`shared.cors`'s constants), and
  REST-only properties (:data:`REST_ONLY_PROPERTIES`) are dropped;
- every ``Api`` event becomes an ``HttpApi`` event with payload format 2.0,
  the same path, method and authorizer;
- REST-only resources (``AWS::ApiGateway::*``, WAF associations) are dropped;
- ``AWS/ApiGateway`` alarms get the HTTP API's metric names and ``ApiId`` +
  ``$default`` dimensions;
- the ``/${StageName}`` suffix leaves the outputs' URLs (``$default`` has none).

Any property or metric no rule knows stops the derivation with a message
naming it, so that nothing REST-specific slips through unnoticed.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import yaml

from shared import cors
from tools import cli, samtemplate
from tools.checks import dashboard

ROOT = samtemplate.ROOT
JWT, LAMBDA = "jwt", "lambda"
TARGETS = {JWT: ROOT / "template-http.yaml", LAMBDA: ROOT / "template-http-lambda.yaml"}
IDENTITY_SOURCE = "$request.header.Authorization"
DEFAULT_STAGE = "$default"
AUTHORIZER_NAME = "JwtAuthorizer"
# REST API properties with no HTTP API counterpart: dropped (see docs/http-api.md, "What each flavour lacks").
REST_ONLY_PROPERTIES = {
    "OpenApiVersion",
    "EndpointConfiguration",
    "GatewayResponses",
    "BinaryMediaTypes",
    "CacheClusterEnabled",
    "CacheClusterSize",
    "CanarySetting",
    "MinimumCompressionSize",
    "TracingEnabled",
    "Mode",
    "ApiKeySourceType",
    "AlwaysDeploy",
    "Variables",
}
MAPPED_PROPERTIES = {
    "Name",
    "StageName",
    "MethodSettings",
    "AccessLogSetting",
    "Auth",
    "Cors",
    "Description",
    "Tags",
    "DisableExecuteApiEndpoint",
}
REST_ONLY_TYPES = ("AWS::ApiGateway::", "AWS::WAFv2::WebACLAssociation", "AWS::WAFRegional::")
# Who called, in an HTTP API's access log: the JWT's sub, or the Lambda authorizer's context key sub.
PRINCIPAL = "<principal>"
PRINCIPAL_VARIABLES = {JWT: "$context.authorizer.claims.sub", LAMBDA: "$context.authorizer.sub"}
# REST API access log variables -> HTTP API ones ("Customize HTTP API access logs"); None drops the field.
LOG_VARIABLES = {
    "$context.requestId": "$context.requestId",
    "$context.identity.sourceIp": "$context.identity.sourceIp",
    "$context.httpMethod": "$context.httpMethod",
    "$context.resourcePath": "$context.routeKey",
    "$context.path": "$context.path",
    "$context.status": "$context.status",
    "$context.responseLatency": "$context.responseLatency",
    "$context.integrationLatency": "$context.integrationLatency",
    "$context.authorizer.principalId": PRINCIPAL,
    "$context.authorizer.status": None,
    "$context.authorizer.latency": None,
    "$context.authorizer.error": "$context.authorizer.error",
    "$context.error.responseType": "$context.error.message",
    "$context.error.message": "$context.error.message",
    "$context.integrationErrorMessage": "$context.integrationErrorMessage",
    "$context.xrayTraceId": "$context.xrayTraceId",
}
# REST API metrics -> HTTP API metrics (namespace AWS/ApiGateway for both).
METRICS = {
    "5XXError": "5xx",
    "4XXError": "4xx",
    "Count": "Count",
    "Latency": "Latency",
    "IntegrationLatency": "IntegrationLatency",
}
# Parameters only the authorizer function reads: the JWT authorizer has no function to give them to.
AUTHORIZER_ONLY_PARAMETERS = ("JwtSecretArn", "JwtJwksUrl")
# What the functions check themselves behind the JWT authorizer (see shared.principal).
FUNCTION_CHECKS = {"JWT_MAX_LIFETIME_SECONDS": {"Ref": "JwtMaxLifetimeSeconds"}}


class DerivationError(ValueError):
    """template.yaml holds something no rule maps to an HTTP API; the message names it and where to add a rule."""


def _api(template: dict) -> tuple[str, dict]:
    apis = [
        (name, resource)
        for name, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Api"
    ]
    if len(apis) != 1:
        raise DerivationError(f"template.yaml must declare exactly one AWS::Serverless::Api, not {len(apis)}")
    return apis[0]


def route_settings(method_settings: list[dict]) -> dict:
    """``DefaultRouteSettings`` and ``RouteSettings`` for a REST API's ``MethodSettings``."""
    names = {
        "ThrottlingRateLimit": "ThrottlingRateLimit",
        "ThrottlingBurstLimit": "ThrottlingBurstLimit",
        "DataTraceEnabled": "DataTraceEnabled",
        "MetricsEnabled": "DetailedMetricsEnabled",
        "LoggingLevel": "LoggingLevel",
    }
    mapped: dict = {}
    for setting in method_settings:
        unknown = set(setting) - set(names) - {"ResourcePath", "HttpMethod"}
        if unknown:
            raise DerivationError(
                f"MethodSettings {', '.join(sorted(unknown))}: no HTTP API route setting; add a "
                f"rule to tools/httpapi.py route_settings()"
            )
        values = {names[key]: value for key, value in setting.items() if key in names}
        path, method = setting.get("ResourcePath", "/*"), setting.get("HttpMethod", "*")
        if path == "/*" and method == "*":
            mapped["DefaultRouteSettings"] = values
        else:
            route_path = path.replace("~1", "/")
            mapped.setdefault("RouteSettings", {})[f"{method} {route_path}"] = values
    return mapped


def access_log_format(rest_format: str, flavour: str = JWT) -> str:
    """The HTTP API access log format for a REST one: a JSON object of ``$context`` variables, mapped."""
    try:
        fields = json.loads(rest_format)
    except ValueError:
        raise DerivationError("AccessLogSetting.Format must be a JSON object of $context variables") from None
    mapped = {}
    for name, variable in fields.items():
        if variable not in LOG_VARIABLES:
            raise DerivationError(
                f"access log variable {variable} has no rule: add it to tools/httpapi.py LOG_VARIABLES (None drops it)"
            )
        if LOG_VARIABLES[variable] is not None:
            mapped[name] = (
                PRINCIPAL_VARIABLES[flavour] if LOG_VARIABLES[variable] == PRINCIPAL else LOG_VARIABLES[variable]
            )
    return json.dumps(mapped, separators=(",", ":"))


def cors_configuration() -> dict:
    """The HTTP API's CORS, from ``CorsAllowOrigins`` and the headers the functions would send themselves."""
    return {
        "Fn::If": [
            "HasCorsOrigins",
            {
                "AllowOrigins": {"Fn::Split": [",", {"Ref": "CorsAllowOrigins"}]},
                "AllowMethods": ["GET", "PATCH", "DELETE", "OPTIONS", "POST", "PUT"],
                "AllowHeaders": [name.strip() for name in cors.ALLOWED_HEADERS.split(",")],
                "ExposeHeaders": [name.strip() for name in cors.EXPOSED_HEADERS.split(",")],
                "MaxAge": int(cors.PREFLIGHT_MAX_AGE_SECONDS),
            },
            {"Ref": "AWS::NoValue"},
        ]
    }


def http_auth(rest_auth: dict, flavour: str) -> dict:
    """The HTTP API's ``Auth``: the JWT authorizer, or the REST authorizer function as a simple-response one."""
    authorizers = rest_auth.get("Authorizers") or {}
    if list(authorizers) != [AUTHORIZER_NAME]:
        raise DerivationError(
            f"the REST API must declare exactly one authorizer, {AUTHORIZER_NAME}; add a rule to "
            f"tools/httpapi.py http_auth() for others"
        )
    rest = authorizers[AUTHORIZER_NAME]
    if flavour == JWT:
        authorizer = {
            "IdentitySource": IDENTITY_SOURCE,
            "JwtConfiguration": {"issuer": {"Ref": "JwtIssuer"}, "audience": [{"Ref": "JwtAudience"}]},
        }
    else:
        identity = rest.get("Identity") or {}
        # Without EnableFunctionDefaultPermissions, SAM grants API Gateway no permission to invoke the authorizer.
        authorizer = {
            "FunctionArn": rest["FunctionArn"],
            "AuthorizerPayloadFormatVersion": "2.0",
            "EnableSimpleResponses": True,
            "EnableFunctionDefaultPermissions": True,
            "Identity": {
                "Headers": [identity.get("Header", "Authorization")],
                "ReauthorizeEvery": identity.get("ReauthorizeEvery", 300),
            },
        }
    return {
        "DefaultAuthorizer": rest_auth.get("DefaultAuthorizer", AUTHORIZER_NAME),
        "Authorizers": {AUTHORIZER_NAME: authorizer},
    }


def http_api(rest: dict, flavour: str) -> dict:
    """The ``AWS::Serverless::HttpApi`` for a REST ``AWS::Serverless::Api`` resource."""
    properties = rest.get("Properties", {})
    unknown = set(properties) - REST_ONLY_PROPERTIES - MAPPED_PROPERTIES
    if unknown:
        raise DerivationError(
            f"Api property {', '.join(sorted(unknown))}: no rule maps it to an HTTP API; add it "
            f"to tools/httpapi.py REST_ONLY_PROPERTIES (dropped) or map it in http_api()"
        )
    mapped: dict = {
        key: properties[key]
        for key in ("Name", "Description", "Tags", "DisableExecuteApiEndpoint")
        if key in properties
    }
    mapped.update(route_settings(properties.get("MethodSettings") or []))
    if "AccessLogSetting" in properties:
        setting = properties["AccessLogSetting"]
        mapped["AccessLogSettings"] = {
            "DestinationArn": setting["DestinationArn"],
            "Format": access_log_format(setting["Format"], flavour),
        }
    mapped["Auth"] = http_auth(properties.get("Auth") or {}, flavour)
    mapped["CorsConfiguration"] = cors_configuration()
    return {key: value for key, value in rest.items() if key != "Properties"} | {
        "Type": "AWS::Serverless::HttpApi",
        "Properties": mapped,
    }


def http_event(event: dict, api_name: str) -> dict:
    """The ``HttpApi`` event for an ``Api`` event: same route and authorizer, payload format 2.0."""
    properties = event.get("Properties", {})
    mapped = {
        "ApiId": {"Ref": api_name},
        "Path": properties["Path"],
        "Method": properties["Method"].upper(),
        "PayloadFormatVersion": "2.0",
    }
    authorizer = (properties.get("Auth") or {}).get("Authorizer")
    if authorizer is not None:
        mapped["Auth"] = {"Authorizer": authorizer}
    return {"Type": "HttpApi", "Properties": mapped}


def http_alarm(alarm: dict, api_name: str) -> dict:
    """An ``AWS/ApiGateway`` alarm with the HTTP API's metric name and dimensions."""
    properties = dict(alarm["Properties"])
    metric = properties.get("MetricName")
    if metric not in METRICS:
        raise DerivationError(f"API Gateway metric {metric}: no HTTP API rule; add it to tools/httpapi.py METRICS")
    properties["MetricName"] = METRICS[metric]
    properties["Dimensions"] = [
        {"Name": "ApiId", "Value": {"Ref": api_name}},
        {"Name": "Stage", "Value": DEFAULT_STAGE},
    ]
    return {**alarm, "Properties": properties}


def _references(value, name: str) -> bool:
    """Whether ``value`` refers to resource or parameter ``name`` (Ref, GetAtt, Sub)."""
    if isinstance(value, dict):
        ref, get_att, sub = value.get("Ref"), value.get("Fn::GetAtt"), value.get("Fn::Sub")
        if isinstance(ref, str) and ref.split(".", 1)[0] == name:
            return True
        if isinstance(get_att, list) and get_att and get_att[0] == name:
            return True
        if isinstance(sub, str) and ("${" + name + "}" in sub or "${" + name + "." in sub):
            return True
        return any(_references(item, name) for item in value.values())
    if isinstance(value, list):
        return any(_references(item, name) for item in value)
    return False


def _names(item) -> str | None:
    """The resource an item such as ``!Ref X`` or ``!GetAtt X.Arn`` names, else None."""
    if isinstance(item, dict) and len(item) == 1:
        ((function, argument),) = item.items()
        if function == "Ref" and isinstance(argument, str):
            return argument.split(".", 1)[0]
        if function == "Fn::GetAtt" and isinstance(argument, list) and argument:
            return argument[0]
    return None


def _without_references(value, names: set[str]):
    """``value`` with every list item that is a ``Ref``/``GetAtt`` of one of ``names`` removed (alarm lists)."""
    if isinstance(value, dict):
        return {key: _without_references(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_references(item, names) for item in value if _names(item) not in names]
    return value


def _alarm_metrics(resources: dict) -> set[str]:
    return {
        resource["Properties"].get("MetricName")
        for resource in resources.values()
        if resource.get("Type") == "AWS::CloudWatch::Alarm"
    }


def _drop_authorizer_function(template: dict, function: str) -> None:
    """The JWT flavour runs no authorizer function: remove it, what only it uses, and references to them."""
    resources = template["Resources"]
    gone = {function} | {
        name
        for name, resource in resources.items()
        if name != function and resource.get("Type") == "AWS::CloudWatch::Alarm" and _references(resource, function)
    }
    kept = {name: resource for name, resource in resources.items() if name not in gone}
    # a metric filter that fed only the dropped alarms goes with them
    orphaned = _alarm_metrics(resources) - _alarm_metrics(kept)
    kept = {
        name: resource
        for name, resource in kept.items()
        if not (
            resource.get("Type") == "AWS::Logs::MetricFilter"
            and {m["MetricName"] for m in resource["Properties"]["MetricTransformations"]} <= orphaned
        )
    }
    gone |= set(resources) - set(kept)
    template["Resources"] = _without_references(kept, gone)
    for resource in template["Resources"].values():  # the deployment hook's variable naming the authorizer
        variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
        for key in [key for key, value in variables.items() if any(_references(value, name) for name in gone)]:
            del variables[key]
    parameters = template["Parameters"]
    for name in [*AUTHORIZER_ONLY_PARAMETERS, *(n for n in list(parameters) if n.startswith(function))]:
        parameters.pop(name, None)
    template.pop("Rules", None)  # the key-source rule is about the authorizer's parameters
    template["Conditions"] = {
        name: condition
        for name, condition in template.get("Conditions", {}).items()
        if not any(_references(condition, item) for item in AUTHORIZER_ONLY_PARAMETERS)
    }
    parameters["JwtAudience"] = {
        **parameters["JwtAudience"],
        "MinLength": 1,
        "Description": "the aud (or client_id) the JWT authorizer requires of every token",
    }
    parameters["JwtIssuer"] = {
        **parameters["JwtIssuer"],
        "AllowedPattern": "^https://.+",
        "Description": "the iss tokens must carry: API Gateway finds the keys at "
        "<issuer>/.well-known/openid-configuration",
    }
    parameters["JwtAudience"].pop("Default", None)
    defaults = template["Globals"]["Function"]["Environment"]["Variables"]
    defaults.update(FUNCTION_CHECKS)


def _rewrite_stage_urls(outputs: dict) -> dict:
    def rewrite(value):
        if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
            return {"Fn::Sub": value["Fn::Sub"].replace("/${StageName}", "")}
        return value

    return {name: {**output, "Value": rewrite(output.get("Value"))} for name, output in outputs.items()}


def derive(rest: dict, flavour: str) -> dict:  # noqa: C901 -- one step per part of the template, in order
    """The HTTP API template (``flavour`` :data:`JWT` or :data:`LAMBDA`) for the REST template ``rest``."""
    template = copy.deepcopy(rest)
    api_name, api = _api(template)
    authorizer_function = samtemplate.function_of_arn(
        ((api.get("Properties", {}).get("Auth") or {}).get("Authorizers") or {})
        .get(AUTHORIZER_NAME, {})
        .get("FunctionArn")
    )
    resources = {}
    for name, resource in template["Resources"].items():
        kind = resource.get("Type", "")
        if name == api_name:
            resources[name] = http_api(api, flavour)
        elif kind.startswith(REST_ONLY_TYPES):
            continue
        elif kind == "AWS::CloudWatch::Alarm" and resource["Properties"].get("Namespace") == "AWS/ApiGateway":
            resources[name] = http_alarm(resource, api_name)
        elif kind == "AWS::Serverless::Function":
            events = resource.get("Properties", {}).get("Events") or {}
            resource["Properties"]["Events"] = {
                event_name: http_event(event, api_name) if event.get("Type") == "Api" else event
                for event_name, event in events.items()
            } or None
            if resource["Properties"]["Events"] is None:
                del resource["Properties"]["Events"]
            resources[name] = resource
        else:
            resources[name] = resource
    # An alarm on the API's metrics names the API's id, and the API depends on the live aliases that the
    # deployment groups move: gating a deployment group on it would be a dependency cycle. It still notifies.
    api_alarms = {
        name
        for name, resource in resources.items()
        if resource.get("Type") == "AWS::CloudWatch::Alarm"
        and resource["Properties"].get("Namespace") == "AWS/ApiGateway"
    }
    for resource in samtemplate.functions({"Resources": resources}).values():
        if "DeploymentPreference" in resource["Properties"]:
            resource["Properties"]["DeploymentPreference"] = _without_references(
                resource["Properties"]["DeploymentPreference"], api_alarms
            )
    template["Resources"] = resources
    template.setdefault("Conditions", {}).setdefault(
        "HasCorsOrigins", {"Fn::Not": [{"Fn::Equals": [{"Ref": "CorsAllowOrigins"}, ""]}]}
    )
    stage = template["Parameters"].get("StageName")
    if stage:
        stage["Description"] = (
            "the environment's name, given to the functions as STAGE (the HTTP API serves its "
            "$default stage, without a path prefix)"
        )
    tracing = template["Parameters"].get("EnableTracing")
    if tracing:  # "HTTP APIs don't support X-Ray tracing" (API Gateway developer guide, HTTP API vs REST API)
        tracing["Description"] = (
            "AWS X-Ray active tracing of the functions (billed per trace recorded; no SDK in the "
            "code); an HTTP API records no X-Ray segment of its own"
        )
    if flavour == JWT:
        _drop_authorizer_function(template, authorizer_function)
    template["Outputs"] = _rewrite_stage_urls(template.get("Outputs") or {})
    template["Description"] = f"{rest.get('Description', '')} (HTTP API, {flavour} authorizer)".strip()
    _redraw_dashboard(template)
    return template


def _redraw_dashboard(template: dict) -> None:
    """The dashboard of this API: its metric names and dimensions, and no authorizer panels without a function."""
    if dashboard.RESOURCE in template["Resources"]:
        properties = template["Resources"][dashboard.RESOURCE]["Properties"]
        properties["DashboardBody"] = {"Fn::Sub": dashboard.render(template)}


def header(flavour: str) -> str:
    return (
        f"# Generated from template.yaml by `python -m tools.httpapi` ({flavour} authorizer): do not edit.\n"
        f"# The HTTP API (API Gateway v2) flavour: see docs/http-api.md. Deploy with make deploy API=http.\n"
    )


def render(rest: dict, flavour: str) -> str:
    """The file text of the ``flavour`` template derived from ``rest``."""
    body = yaml.safe_dump(derive(rest, flavour), sort_keys=False, width=120, allow_unicode=True)
    return header(flavour) + body


def stale(source: Path = samtemplate.TEMPLATE) -> list[str]:
    """A problem per derived template that differs from what ``template.yaml`` now derives."""
    rest = samtemplate.load(source)
    problems = []
    for flavour, target in TARGETS.items():
        try:
            wanted = render(rest, flavour)
        except DerivationError as exc:
            return [f"template.yaml: cannot derive the HTTP API templates: {exc}"]
        if not target.exists() or target.read_text() != wanted:
            problems.append(
                f"{target.name} is stale: run make generate (it derives it from template.yaml again), and commit it"
            )
    return problems


def write(source: Path = samtemplate.TEMPLATE) -> list[Path]:
    """Write each derived template that differs from what ``source`` derives; return the ones written.

    Raises :class:`DerivationError` when ``source`` holds what no rule carries over.
    """
    rest = samtemplate.load(source)
    written = []
    for flavour, target in TARGETS.items():
        text = render(rest, flavour)
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="python -m tools.httpapi", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether the files are up to date")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    try:
        written = write()
    except DerivationError as exc:
        raise cli.CommandError(str(exc)) from None
    for target in written:
        print(f"wrote {target.name}")
    if not written:
        print("the HTTP API templates already agree with template.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main, "python -m tools.httpapi"))
