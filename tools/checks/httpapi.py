"""The HTTP API templates (``template-http*.yaml``, see :mod:`tools.httpapi`), checked offline.

- up to date with ``template.yaml`` (else: the command that regenerates them);
- the source: the ``$default`` stage (no ``StageName``), payload format 2.0 on
  every event, ``$request.header.Authorization`` as the authorizer's identity;
- cfn-lint, then SAM's transform for each samconfig.toml environment, and on
  its output: every declared route (and its preflight) routed to its
  function's ``live`` alias with payload 2.0, the authorizer on every route but
  the public ones, the JWT configuration's issuer and audience from the
  parameters (or the Lambda authorizer's simple responses, payload 2.0 and
  TTL), a permission for API Gateway on every alias it invokes, the
  ``$default`` stage with automatic deployment, access logs and throttling,
  and the canary rollout with the functions' own version alarms.
"""

from __future__ import annotations

import re
from pathlib import Path

from tools import httpapi, samtemplate
from tools.checks import cfnlint, declarations, sam
from tools.checks import template as rest_checks
from tools.checks.routes import INVOKED
from tools.samtemplate import Evaluator

TEMPLATES = tuple(httpapi.TARGETS.values())
LOG_VARIABLE = re.compile(r"\$context\.[A-Za-z0-9_.]+")
# The derivation's targets: the variables "Customize HTTP API access logs" documents, as mapped.
HTTP_LOG_VARIABLES = {value for value in httpapi.LOG_VARIABLES.values() if value and value.startswith("$")} | set(
    httpapi.PRINCIPAL_VARIABLES.values()
)
API_TYPE = "AWS::Serverless::HttpApi"
# Values the JWT flavour needs that the REST examples leave empty.
EXAMPLE_VALUES = {"JwtIssuer": "https://issuer.example.com/", "JwtAudience": "bare-api"}


def resources(cfn: dict, kind: str) -> dict[str, dict]:
    return {name: resource for name, resource in cfn.get("Resources", {}).items() if resource.get("Type") == kind}


def check_source(template: dict, name: str) -> list[str]:
    """The HTTP-API-specific mistakes SAM accepts without a word."""
    found = []
    for api_name, api in resources(template, API_TYPE).items():
        properties = api.get("Properties", {})
        stage = properties.get("StageName")
        if stage is not None and stage != httpapi.DEFAULT_STAGE:
            found.append(
                f"{name}: {api_name} sets StageName {stage!r}: remove it, so that SAM creates the $default "
                f"stage (automatic deployment, no stage in the URL) and no second, unused stage"
            )
        for authorizer_name, authorizer in ((properties.get("Auth") or {}).get("Authorizers") or {}).items():
            identity = authorizer.get("IdentitySource")
            if "JwtConfiguration" in authorizer and identity != httpapi.IDENTITY_SOURCE:
                found.append(
                    f"{name}: authorizer {authorizer_name} reads the token from {identity!r}: use "
                    f"IdentitySource: {httpapi.IDENTITY_SOURCE} (clients send Authorization: Bearer)"
                )
            headers = (authorizer.get("Identity") or {}).get("Headers")
            if "FunctionArn" in authorizer and headers != ["Authorization"]:
                found.append(
                    f"{name}: authorizer {authorizer_name} is keyed on {headers}: use Identity: Headers: "
                    f"[Authorization], so its cache is keyed on {httpapi.IDENTITY_SOURCE}"
                )
    for function, resource in samtemplate.functions(template).items():
        for event_name, event in (resource.get("Properties", {}).get("Events") or {}).items():
            if event.get("Type") == "Api":
                found.append(
                    f"{name}: {function}.{event_name} is a REST API event: derive the file again "
                    f"(python -m tools.httpapi)"
                )
            version = str(event.get("Properties", {}).get("PayloadFormatVersion", ""))
            if event.get("Type") == "HttpApi" and version != "2.0":
                found.append(
                    f"{name}: {function}.{event_name} has PayloadFormatVersion {version or 'unset'}: use "
                    f'"2.0" (the router reads both, but the principal and cookies differ in 1.0)'
                )
    return found


def _body(cfn: dict) -> dict:
    apis = resources(cfn, "AWS::ApiGatewayV2::Api")
    return next(iter(apis.values()), {}).get("Properties", {}).get("Body", {})


def _target(uri: str) -> str:
    found = INVOKED.search(uri)
    return found.group("target") if found else uri


def check_routes(template: dict, cfn: dict, evaluator: Evaluator) -> list[str]:
    """Every declared route and preflight, on its function's live alias, payload 2.0, guarded unless public."""
    declared = declarations.declared_routes()
    functions = declarations.functions_by_module(template)
    paths = _body(cfn).get("paths", {})
    in_rest = {(route.method, route.path) for route in samtemplate.api_routes(samtemplate.load())}
    found = []
    for route in [*declared, *declarations.preflights(declared)]:
        if route.key not in in_rest:
            continue  # template.yaml lacks it: its own checks say what to add, and the derivation brings it here
        operation = paths.get(route.path, {}).get(route.method.lower())
        if operation is None:
            found.append(
                f"{route.method} {route.path} ({route.module}) is not routed by the HTTP API: add its Api "
                f"event to template.yaml, then python -m tools.httpapi"
            )
            continue
        integration = operation.get("x-amazon-apigateway-integration", {})
        target = _target(str(evaluator.value(integration.get("uri", ""))))
        function = functions.get(route.module, "?")
        if target != f"{function}Aliaslive":
            found.append(
                f"{route.method} {route.path} invokes {target}, not {function}'s live alias: point the "
                f"event at the function with AutoPublishAlias: live"
            )
        if str(integration.get("payloadFormatVersion")) != "2.0":
            found.append(
                f"{route.method} {route.path} sends payload format {integration.get('payloadFormatVersion')}"
                f': set PayloadFormatVersion: "2.0"'
            )
        security = [name for requirement in operation.get("security", []) for name in requirement]
        guarded = bool(security) and security != ["NONE"]
        if guarded == route.public:
            found.append(
                f"{route.method} {route.path} is {'guarded' if guarded else 'open'} but declared "
                f"{'public' if route.public else 'behind the authorizer'}: fix its Auth in template.yaml"
            )
    return found


def check_authorizer(cfn: dict, evaluator: Evaluator, flavour: str) -> list[str]:  # noqa: C901 -- one check per field of the authorizer, flat
    """The JWT configuration from the parameters, or the Lambda authorizer as a simple-response one."""
    schemes = _body(cfn).get("components", {}).get("securitySchemes", {})
    scheme = schemes.get(httpapi.AUTHORIZER_NAME, {}).get("x-amazon-apigateway-authorizer")
    if scheme is None:
        return [f"the HTTP API has no {httpapi.AUTHORIZER_NAME}: derive the templates again"]
    found = []
    if flavour == httpapi.JWT:
        configuration = scheme.get("jwtConfiguration", {})
        if scheme.get("type") != "jwt":
            found.append(
                f"{httpapi.AUTHORIZER_NAME} is a {scheme.get('type')} authorizer: template-http.yaml uses "
                f"API Gateway's JWT authorizer"
            )
        if configuration.get("issuer") != {"Ref": "JwtIssuer"}:
            found.append("the JWT authorizer's issuer is not the JwtIssuer parameter: set issuer: !Ref JwtIssuer")
        if configuration.get("audience") != [{"Ref": "JwtAudience"}]:
            found.append("the JWT authorizer's audience is not [JwtAudience]: set audience: [!Ref JwtAudience]")
        if scheme.get("identitySource") != httpapi.IDENTITY_SOURCE:
            found.append(f"the JWT authorizer reads {scheme.get('identitySource')}: use {httpapi.IDENTITY_SOURCE}")
        return found
    expected = {
        "type": "request",
        "authorizerPayloadFormatVersion": "2.0",
        "enableSimpleResponses": True,
        "identitySource": [httpapi.IDENTITY_SOURCE],
    }
    for key, value in expected.items():
        if scheme.get(key) != value:
            found.append(f"the Lambda authorizer's {key} is {scheme.get(key)!r}, not {value!r}")
    if not scheme.get("authorizerResultTtlInSeconds"):
        found.append("the Lambda authorizer caches nothing: set ReauthorizeEvery, as the REST authorizer does")
    uri = str(evaluator.value(scheme.get("authorizerUri", "")))
    function, _ = samtemplate.authorizer_function(samtemplate.load())
    if _target(uri) != f"{function}Aliaslive":
        found.append(f"the Lambda authorizer invokes {_target(uri)}, not {function}'s live alias")
    return found


def check_permissions(cfn: dict, evaluator: Evaluator) -> list[str]:
    """API Gateway may invoke every alias the API routes to, and the Lambda authorizer's."""
    targets = set()
    for operations in _body(cfn).get("paths", {}).values():
        for operation in operations.values():
            targets.add(
                _target(str(evaluator.value(operation.get("x-amazon-apigateway-integration", {}).get("uri", ""))))
            )
    for scheme in _body(cfn).get("components", {}).get("securitySchemes", {}).values():
        uri = scheme.get("x-amazon-apigateway-authorizer", {}).get("authorizerUri")
        if uri:
            targets.add(_target(str(evaluator.value(uri))))
    allowed = {
        str(permission["Properties"].get("FunctionName", {}).get("Ref"))
        for permission in resources(cfn, "AWS::Lambda::Permission").values()
        if permission["Properties"].get("Principal") == "apigateway.amazonaws.com"
    }
    return [
        f"API Gateway has no permission to invoke {target}: give its events ApiId: !Ref Api (an authorizer: "
        f"EnableFunctionDefaultPermissions: true)"
        for target in sorted(targets - allowed)
    ]


def check_stage(cfn: dict) -> list[str]:
    stages = resources(cfn, "AWS::ApiGatewayV2::Stage")
    if len(stages) != 1:
        return [f"the HTTP API has {len(stages)} stages: it needs exactly the $default one"]
    properties = next(iter(stages.values()))["Properties"]
    found = []
    if properties.get("StageName") != httpapi.DEFAULT_STAGE or properties.get("AutoDeploy") is not True:
        found.append("the HTTP API's stage must be $default with AutoDeploy: remove StageName")
    if "DestinationArn" not in properties.get("AccessLogSettings", {}):
        found.append("the $default stage writes no access log: set AccessLogSetting on template.yaml's Api")
    unknown = sorted(
        set(LOG_VARIABLE.findall(str(properties.get("AccessLogSettings", {}).get("Format", "")))) - HTTP_LOG_VARIABLES
    )
    if unknown:
        found.append(
            f"the access log format uses {', '.join(unknown)}, which HTTP APIs do not log: map it in "
            f"tools/httpapi.py LOG_VARIABLES"
        )
    if "ThrottlingRateLimit" not in properties.get("DefaultRouteSettings", {}):
        found.append("the $default stage has no throttling: set MethodSettings throttling on template.yaml's Api")
    return found


def _seen_as_rest(cfn: dict) -> dict:
    """``cfn`` with the HTTP API's body also shown as a REST API's, for the REST checks that find the authorizer there.

    Both bodies are OpenAPI with ``x-amazon-apigateway-authorizer`` security schemes and a Lambda ``authorizerUri``.
    """
    view = {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Body": _body(cfn)}}
    return {**cfn, "Resources": {**cfn.get("Resources", {}), "HttpApiBody": view}}


def check_rollout(cfn: dict, evaluator: Evaluator, environment: str) -> list[str]:
    """Every function rolls out with its own version alarms (the authorizer with its own kind); canaries in prod."""
    found = rest_checks.check_canary_alarms(_seen_as_rest(cfn), evaluator)
    functions = rest_checks.rolled_out_functions(cfn)
    groups = resources(cfn, "AWS::CodeDeploy::DeploymentGroup")
    if len(groups) != len(functions):
        found.append("not every function has a DeploymentPreference: give each one")
    for name, group in groups.items():
        properties = evaluator.value(group["Properties"])
        config_name = str(properties.get("DeploymentConfigName", ""))
        alarms = properties.get("AlarmConfiguration", {}).get("Alarms", [])
        if environment == "prod" and ("AllAtOnce" in config_name or not alarms):
            found.append(
                f"{name} deploys to prod with {config_name} and {len(alarms)} alarms: use a canary with rollback alarms"
            )
    return found


def check(path: Path) -> list[str]:
    """Every problem of one derived HTTP API template, for every environment."""
    flavour = (
        next(flavour for flavour, target in httpapi.TARGETS.items() if target.name == path.name)
        if path.name in {target.name for target in TEMPLATES}
        else (httpapi.LAMBDA if "lambda" in path.name else httpapi.JWT)
    )
    template = samtemplate.load(path)
    if resources(template, API_TYPE) and path.resolve() in {target.resolve() for target in TEMPLATES}:
        stale = [problem for problem in httpapi.stale() if problem.startswith((path.name, "template.yaml"))]
        if stale:  # the rest would judge an out-of-date derivation: its cause is the one line to fix
            return stale
    found = check_source(template, path.name)
    found += cfnlint.lint_file(path)
    resolved = [f"W2001 Parameter {name} not used" for name in sam.revision_parameters(template).values()]
    for environment, settings in sorted(sam.environments().items()):
        overrides = sam.parse_overrides(settings.get("parameter_overrides", ""))
        try:
            values = sam.parameter_values(template, {**EXAMPLE_VALUES, **overrides})
            values = {name: value for name, value in values.items() if name in template.get("Parameters", {})}
            cfn = sam.translate(template, values)
        except Exception as exc:
            found.append(f"{path.name} [{environment}]: SAM cannot transform it: {exc}")
            continue
        found += [
            line
            for line in cfnlint.lint_document(cfn, f"{path.name} [{environment}, transformed]")
            if not any(finding in line for finding in resolved)
        ]
        evaluator = Evaluator(cfn, values)
        problems = (
            check_routes(template, cfn, evaluator)
            + check_authorizer(cfn, evaluator, flavour)
            + check_permissions(cfn, evaluator)
            + check_stage(cfn)
            + check_rollout(cfn, evaluator, environment)
            + rest_checks.check_boundaries(cfn)
        )
        found += [f"{path.name} [{environment}] {problem}" for problem in problems]
    return list(dict.fromkeys(found))
