"""Assertions on the template, after SAM's transform, for every environment of samconfig.toml.

Each check returns a list of problems; each problem says what is wrong and how
to fix it. ``check(template_path)`` runs them all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tools import samtemplate
from tools.checks import envvars, imports, routes, sam
from tools.checks.cfn_rules import RestStageName
from tools.checks.snippets import addition
from tools.samtemplate import Evaluator

ROOT = Path(__file__).resolve().parent.parent.parent
AUTHORIZER_URI = re.compile(
    r"^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/(?P<function>.+)/invocations$"
)
AUTHORIZER_TTL_SECONDS = 300
SECRET_VARIABLE = re.compile(r"(SECRET|PASSWORD|_URI$|_KEY$|TOKEN)")
REFERENCE_PATTERN = re.compile(r"\^(\$\|\^)?arn:.+")  # an AllowedPattern that admits ARNs only (or nothing)
MINIMUM_PYTHON = (3, 12)
# A second valid value for each parameter without AllowedValues, so the version check can change it.
SECOND_VALUES = {
    "StageName": "v2",
    "LogLevel": "DEBUG",
    "MongoDbUriSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bare-api/dev/other-uri-GhIjKl",
    "MongoDbDatabase": "other",
    "JwtSecretArn": "arn:aws:ssm:us-east-1:123456789012:parameter/bare-api/dev/other-secret",
    "JwtJwksUrl": "https://issuer.example.com/.well-known/jwks.json",
    "JwtIssuer": "https://other-issuer.example.com/",
    "JwtAudience": "other-audience",
    "JwtMaxLifetimeSeconds": "3600",
    "CorsAllowOrigins": "https://app.example.com,https://admin.example.com",
    "SmokeTokenSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bare-api/dev/smoke-token-MnOpQr",
    "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:alarms",
    "PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/bare-api-dev-boundary",
    "SecretsKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}


def resources(document: dict, kind: str) -> dict[str, dict]:
    return {name: resource for name, resource in document.get("Resources", {}).items() if resource.get("Type") == kind}


def check_stages(cfn: dict, evaluator: Evaluator) -> list[str]:
    """Exactly one REST API with exactly one stage, named as API Gateway allows."""
    found = []
    apis = resources(cfn, "AWS::ApiGateway::RestApi")
    stages = resources(cfn, "AWS::ApiGateway::Stage")
    if len(apis) != 1:
        found.append(
            f"the template makes {len(apis)} REST APIs ({', '.join(sorted(apis))}), not one: give every "
            f"Api event RestApiId: !Ref <the API> so SAM makes no implicit ServerlessRestApi"
        )
    extra = [
        name
        for name, deployment in resources(cfn, "AWS::ApiGateway::Deployment").items()
        if "StageName" in deployment.get("Properties", {})
    ]
    if len(stages) != 1 or extra:
        names = sorted(stages) + [f"{name} (Deployment.StageName)" for name in extra]
        found.append(
            f"the API would have {len(names)} stages ({', '.join(names)}), not one: set OpenApiVersion: "
            f"'3.0.1' on the AWS::Serverless::Api (without it SAM adds a stage named 'Stage') and declare "
            f"routes as function events, not in DefinitionBody"
        )
    for name, stage in stages.items():
        stage_name = str(evaluator.value(stage["Properties"].get("StageName", "")))
        if not RestStageName.VALID.match(stage_name):
            found.append(
                f"stage {name} is named {stage_name!r}, which API Gateway refuses for a REST API "
                f"(letters, digits and underscores only): use a name such as 'dev' or 'prod'"
            )
    return found


def authorizers(cfn: dict) -> dict[str, dict]:
    """Every ``x-amazon-apigateway-authorizer`` of every REST API body, and every Authorizer resource."""
    found = {}
    for api_name, api in resources(cfn, "AWS::ApiGateway::RestApi").items():
        body = api.get("Properties", {}).get("Body", {})
        schemes = {**body.get("securityDefinitions", {}), **body.get("components", {}).get("securitySchemes", {})}
        for name, scheme in schemes.items():
            if "x-amazon-apigateway-authorizer" in scheme:
                found[f"{api_name}.{name}"] = scheme["x-amazon-apigateway-authorizer"]
    for name, resource in resources(cfn, "AWS::ApiGateway::Authorizer").items():
        properties = resource.get("Properties", {})
        found[name] = {
            "authorizerUri": properties.get("AuthorizerUri"),
            "authorizerResultTtlInSeconds": properties.get("AuthorizerResultTtlInSeconds"),
            "type": str(properties.get("Type", "")).lower(),
        }
    return found


def check_authorizer(cfn: dict, evaluator: Evaluator) -> list[str]:
    """One Lambda authorizer: well-formed URI, 300 s cache, and API Gateway allowed to invoke it."""
    found = []
    declared = authorizers(cfn)
    if len(declared) != 1:
        return [
            f"the API declares {len(declared)} authorizers, not one: declare the JWT authorizer under the "
            f"API's Auth.Authorizers with DefaultAuthorizer"
        ]
    ((name, authorizer),) = declared.items()
    uri = str(evaluator.value(authorizer.get("authorizerUri")))
    matched = AUTHORIZER_URI.match(uri)
    if matched is None:
        found.append(
            f"authorizer {name} has the URI {uri!r}, not arn:<partition>:apigateway:<region>:lambda:path/"
            f"2015-03-31/functions/<function arn>/invocations: end it with /invocations (or let SAM write "
            f"it from Auth.Authorizers.<name>.FunctionArn)"
        )
    ttl = authorizer.get("authorizerResultTtlInSeconds")
    if ttl != AUTHORIZER_TTL_SECONDS:
        found.append(
            f"authorizer {name} caches its answer for {ttl} s, not {AUTHORIZER_TTL_SECONDS}: set "
            f"Identity.ReauthorizeEvery: {AUTHORIZER_TTL_SECONDS}"
        )
    if matched is not None and not _invocable(cfn, evaluator, matched.group("function")):
        found.append(
            f"API Gateway has no permission to invoke the authorizer {matched.group('function')}: add an "
            f"AWS::Lambda::Permission for apigateway.amazonaws.com on that function (SAM adds it for "
            f"Auth.Authorizers)"
        )
    return found


def _invocable(cfn: dict, evaluator: Evaluator, function: str) -> bool:
    def named(value) -> str:
        return str(value).strip("<>").removesuffix(".Arn")

    for permission in resources(cfn, "AWS::Lambda::Permission").values():
        properties = evaluator.value(permission.get("Properties", {}))
        if (
            properties.get("Principal") == "apigateway.amazonaws.com"
            and properties.get("Action") == "lambda:InvokeFunction"
            and named(properties.get("FunctionName")) == named(function)
        ):
            return True
    return False


def function_environment(properties: dict, evaluator: Evaluator) -> dict[str, str]:
    variables = evaluator.value(properties.get("Environment", {}).get("Variables", {}))
    return {name: str(value) for name, value in variables.items()}


def check_functions(template: dict) -> list[str]:
    """Runtime, architecture, alias, code location and handler of every function."""
    found = []
    for name, properties in sam.function_properties(template).items():
        runtime = str(properties.get("Runtime", ""))
        version = tuple(int(part) for part in re.findall(r"\d+", runtime)[:2])
        if not runtime.startswith("python") or version < MINIMUM_PYTHON:
            found.append(f"{name} runs {runtime!r}: use python3.12 or newer (SnapStart needs it)")
        if properties.get("Architectures") != ["arm64"]:
            found.append(f"{name} is not arm64: set Architectures: [arm64]")
        if not properties.get("AutoPublishAlias"):
            found.append(f"{name} has no AutoPublishAlias: set it so deployments shift traffic and can roll back")
        if properties.get("CodeUri") != f"build/{name}.zip":
            found.append(
                f"{name} has CodeUri {properties.get('CodeUri')!r}: point it at build/{name}.zip, the "
                f"artifact `make build` writes"
            )
    return found


def check_handlers_import(template: dict, evaluator: Evaluator) -> list[str]:
    """Each Handler imports, with the environment the template gives its function, in a fresh interpreter."""
    found = []
    for name, properties in sam.function_properties(template).items():
        module, _, attribute = properties["Handler"].rpartition(".")
        code = (
            f"import importlib; handler = getattr(importlib.import_module({module!r}), {attribute!r}); "
            f"assert callable(handler), 'not callable'"
        )
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
            **function_environment(properties, evaluator),
        }
        result = subprocess.run(
            [sys.executable, "-c", code], env=environment, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        if result.returncode != 0:
            error = (result.stderr.strip().splitlines() or ["no output"])[-1]
            found.append(
                f"{name}'s Handler {properties['Handler']} does not import with its template "
                f"environment ({error}): fix the Handler path or the variables"
            )
    return found


def check_environment(template: dict, evaluator: Evaluator) -> list[str]:
    """The variables each function's code reads against those the template sets (see envvars)."""
    found = []
    for name, properties in sam.function_properties(template).items():
        try:
            modules = imports.closure(properties["Handler"].rpartition(".")[0]).modules
        except imports.ImportAnalysisError:
            continue  # check_handlers_import names the broken Handler
        found += envvars.problems(name, modules, set(function_environment(properties, evaluator)))
    return found


def check_secrets(template: dict, cfn: dict) -> list[str]:
    """Secret variables hold references (ARN parameters), readable by their function only, and no `*` action."""
    found = []
    parameters = template.get("Parameters", {})
    for name, properties in sam.function_properties(template).items():
        for variable, value in properties.get("Environment", {}).get("Variables", {}).items():
            if not SECRET_VARIABLE.search(variable):
                continue
            parameter = value.get("Ref") if isinstance(value, dict) else None
            pattern = parameters.get(parameter, {}).get("AllowedPattern", "")
            if parameter is None or not REFERENCE_PATTERN.fullmatch(pattern):
                found.append(
                    f"{name}'s {variable} is not a reference to a secret: pass !Ref to a parameter whose "
                    f"AllowedPattern accepts only Secrets Manager or SSM ARNs"
                )
            elif not _grants_read(cfn, name, parameter):
                found.append(
                    f"{name} cannot read the secret {parameter}: add a policy statement allowing "
                    f"secretsmanager:GetSecretValue (or ssm:GetParameter) on !Ref {parameter} only"
                )
    for role_name, role in resources(cfn, "AWS::IAM::Role").items():
        for statement in _statements(role):
            actions = statement.get("Action", [])
            for action in actions if isinstance(actions, list) else [actions]:
                if isinstance(action, str) and (action == "*" or action.endswith(":*")):
                    found.append(f"{role_name} allows the action {action!r}: name the actions it needs")
    return found


def check_boundaries(cfn: dict) -> list[str]:
    """Every role the stack creates carries the permissions boundary the CloudFormation role requires."""
    found = []
    for name, role in resources(cfn, "AWS::IAM::Role").items():
        boundary = role.get("Properties", {}).get("PermissionsBoundary")
        if isinstance(boundary, dict) and "Fn::If" in boundary:
            boundary = boundary["Fn::If"][1]
        if not (isinstance(boundary, dict) and boundary.get("Ref") in cfn.get("Parameters", {})):
            found.append(
                f"{name} has no PermissionsBoundary, so the bootstrap's CloudFormation role may not create "
                f"it: set Globals.Function.PermissionsBoundary (and PermissionsBoundary on other roles, "
                f"such as DeploymentPreference's Role) to !Ref PermissionsBoundaryArn"
            )
    return found


def _statements(role: dict) -> list[dict]:
    statements = []
    for policy in role.get("Properties", {}).get("Policies", []):
        if "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        statements += policy.get("PolicyDocument", {}).get("Statement", []) if isinstance(policy, dict) else []
    return statements


def _grants_read(cfn: dict, function: str, parameter: str) -> bool:
    role = cfn["Resources"].get(f"{function}Role", {})
    for statement in _statements(role):
        action = json.dumps(statement.get("Action"))
        if statement.get("Resource") == {"Ref": parameter} and (
            "secretsmanager:GetSecretValue" in action or "ssm:GetParameter" in action
        ):
            return True
    return False


def check_delivery(cfn: dict, evaluator: Evaluator, environment: str) -> list[str]:  # noqa: C901 -- independent checks, one per rule
    """Gradual rollout with alarm rollback in prod, all at once in dev; alarms, access logs, throttling, URL."""
    found = []
    production = environment == "prod"
    for name, group in resources(cfn, "AWS::CodeDeploy::DeploymentGroup").items():
        properties = evaluator.value(group["Properties"])
        config_name = str(properties.get("DeploymentConfigName", ""))
        alarms = properties.get("AlarmConfiguration", {}).get("Alarms", [])
        if production and ("AllAtOnce" in config_name or not alarms):
            found.append(
                f"{name} deploys to {environment} with {config_name} and {len(alarms)} alarms: use a "
                f"Canary or Linear DeploymentPreference with rollback Alarms in production"
            )
        if not production and "AllAtOnce" not in config_name:
            found.append(f"{name} deploys to {environment} with {config_name}: use AllAtOnce outside production")
    if len(resources(cfn, "AWS::CodeDeploy::DeploymentGroup")) != len(rolled_out_functions(cfn)):
        found.append("not every function has a DeploymentPreference: give each one")
    metrics = {
        str(evaluator.value(alarm["Properties"].get("MetricName")))
        for alarm in resources(cfn, "AWS::CloudWatch::Alarm").values()
    }
    for metric, what in (
        ("5XXError", "5xx answers"),
        ("Latency", "latency"),
        ("AuthorizerFailures", "authorizer errors"),
    ):
        if metric not in metrics:
            found.append(f"no CloudWatch alarm watches {what} ({metric}): add one")
    for name, stage in resources(cfn, "AWS::ApiGateway::Stage").items():
        properties = stage.get("Properties", {})
        if "DestinationArn" not in properties.get("AccessLogSetting", {}):
            found.append(f"stage {name} writes no access log: set AccessLogSetting on the API")
        if not any("ThrottlingRateLimit" in setting for setting in properties.get("MethodSettings", [])):
            found.append(f"stage {name} has no throttling: set MethodSettings ThrottlingRateLimit/BurstLimit")
    if "ApiUrl" not in cfn.get("Outputs", {}):
        found.append("the template has no ApiUrl output: add it (the deploy smoke test reads it)")
    return found


CORS_GATEWAY_RESPONSES = ("DEFAULT_4XX", "DEFAULT_5XX")  # every response API Gateway makes itself inherits one
ALLOW_ORIGIN = "gatewayresponse.header.Access-Control-Allow-Origin"


def check_gateway_responses(cfn: dict, evaluator: Evaluator, origins: str) -> list[str]:
    """With CORS origins set, API Gateway's own 4xx/5xx carry Access-Control-Allow-Origin; without, they do not."""
    found = []
    for api_name, api in resources(cfn, "AWS::ApiGateway::RestApi").items():
        responses = evaluator.value(
            api.get("Properties", {}).get("Body", {}).get("x-amazon-apigateway-gateway-responses", {})
        )
        for response_type in CORS_GATEWAY_RESPONSES:
            header = responses.get(response_type, {}).get("responseParameters", {}).get(ALLOW_ORIGIN)
            if origins and not header:
                found.append(
                    f"with CorsAllowOrigins={origins!r}, {api_name}'s own {response_type} answers (the "
                    f"authorizer's 401 and 500, 403 for an unknown path, 429) carry no "
                    f"Access-Control-Allow-Origin, so a browser app sees a CORS error instead of the status: "
                    f"add GatewayResponses.{response_type}.ResponseParameters.Headers.Access-Control-Allow-"
                    f"Origin: !If [HasCorsOrigins, method.request.header.Origin, !Ref AWS::NoValue]"
                )
            if not origins and header:
                found.append(
                    f"with CorsAllowOrigins empty (CORS off), {api_name}'s own {response_type} answers "
                    f"still carry Access-Control-Allow-Origin ({header}): make the header conditional on "
                    f"CorsAllowOrigins (!If [HasCorsOrigins, ..., !Ref AWS::NoValue])"
                )
    return found


def check_cors_gateway_responses(template: dict, values: dict[str, str]) -> list[str]:
    """:func:`check_gateway_responses` with CorsAllowOrigins set, as a browser app's deploy would set it."""
    if "CorsAllowOrigins" not in template.get("Parameters", {}):
        return []
    changed = {**values, "CorsAllowOrigins": SECOND_VALUES["CorsAllowOrigins"]}
    cfn = sam.translate(template, changed)
    return check_gateway_responses(cfn, Evaluator(cfn, changed), changed["CorsAllowOrigins"])


def deployment(template: dict, values: dict[str, str], code: dict[str, str]) -> tuple[dict, dict]:
    """``({function: version logical id}, {function: evaluated configuration})`` as SAM deploys ``code``."""
    parameters = {**values, **sam.function_revisions(template, values, code)}
    cfn = sam.translate(template, parameters, code)
    evaluator = Evaluator(cfn, parameters)
    versions = {
        str(version["Properties"]["FunctionName"].get("Ref")): name
        for name, version in resources(cfn, "AWS::Lambda::Version").items()
    }
    # SAM appends the revision to Description, so that Lambda publishes: part of the version, not of the input.
    # Reserved concurrency belongs to the function, not to a version.
    configurations = {
        name: evaluator.value(
            {
                key: value
                for key, value in function["Properties"].items()
                if key != "Description" and key not in sam.FUNCTION_LEVEL
            }
        )
        for name, function in resources(cfn, "AWS::Lambda::Function").items()
    }
    return versions, configurations


def check_versions(template: dict, values: dict[str, str]) -> list[str]:
    """A function gets a new version id exactly when its code or its configuration changes.

    The template is transformed again with each parameter changed in turn, and with
    each function's code changed; the same inputs must give the same ids.
    """
    code = sam.example_code(template)
    versions, configurations = deployment(template, values, code)
    found = []
    if deployment(template, values, code)[0] != versions:
        found.append("SAM names the versions differently for the same inputs: keep their names deterministic")
    changes = [
        (f"{name}'s code", values, {**code, name: hashlib.sha256(f"new code of {name}".encode()).hexdigest()})
        for name in versions
    ]
    computed = set(sam.revision_parameters(template).values())
    for name, declaration in template.get("Parameters", {}).items():
        other = _second_value(name, declaration, values[name])
        if name in computed:
            continue
        if other is None:
            found.append(
                f"the version check has no second value for parameter {name}: add one to SECOND_VALUES "
                f"in tools/checks/template.py"
            )
            continue
        changes.append((f"{name} ({values[name]!r} -> {other!r})", {**values, name: other}, code))
    for what, changed_values, changed_code in changes:
        new_versions, new_configurations = deployment(template, changed_values, changed_code)
        stale = [
            name
            for name in versions
            if new_configurations[name] != configurations[name] and new_versions[name] == versions[name]
        ]
        needless = [
            name
            for name in versions
            if new_configurations[name] == configurations[name] and new_versions[name] != versions[name]
        ]
        if stale:
            found.append(
                f"changing {what} changes the configuration of {', '.join(stale)} but not the version, so "
                f"the live alias keeps the old one: give each function AutoPublishCodeSha256: "
                f"!Ref <Function>Revision, a parameter make deploy computes from its code and configuration"
            )
        if needless:
            found.append(
                f"changing {what} publishes a new version of {', '.join(needless)}, whose configuration "
                f"does not change: compute its revision only from what its configuration uses"
            )
    return found


def _second_value(name: str, declaration: dict, value: str) -> str | None:
    allowed = [str(item) for item in declaration.get("AllowedValues", []) if str(item) != value]
    if allowed:
        return allowed[0]
    if declaration.get("Type") == "Number":
        return str(int(value) + 1)
    return SECOND_VALUES.get(name)


EXPRESSION_TERM = re.compile(r"(-\s*(?:FILL\(\s*)?)?\b([a-z][A-Za-z0-9_]*)\b")


def alarm_metrics(properties: dict) -> list[dict]:
    """Every metric an alarm reads: its own, or each ``MetricStat`` of its metric math.

    A metric its expressions only subtract (``errors - refused``) is left out: the alarm
    does not watch it, it discounts it.
    """
    if "MetricName" in properties:
        return [properties]
    queries = properties.get("Metrics", [])
    terms = [term for query in queries for term in EXPRESSION_TERM.findall(str(query.get("Expression", "")))]
    subtracted = {name for sign, name in terms if sign} - {name for sign, name in terms if not sign}
    return [
        query["MetricStat"]["Metric"]
        for query in queries
        if "MetricStat" in query and query.get("Id") not in subtracted
    ]


def authorizer_function(cfn: dict, evaluator: Evaluator) -> str:
    """The function behind the API's authorizer (through its alias), or "" when there is none."""
    aliases = {
        name: str(alias["Properties"]["FunctionName"].get("Ref"))
        for name, alias in resources(cfn, "AWS::Lambda::Alias").items()
    }
    for authorizer in authorizers(cfn).values():
        matched = AUTHORIZER_URI.match(str(evaluator.value(authorizer.get("authorizerUri"))))
        target = matched.group("function").strip("<>").removesuffix(".Arn") if matched else ""
        return aliases.get(target, target)
    return ""


# What each kind of function's deployment group must watch on its new version: (metric, what it catches).
ROLLBACK_METRICS = {
    "api": [
        (
            "Errors",
            "crashes, timeouts and out-of-memory (AWS/Lambda Errors with FunctionName, Resource "
            "<function>:live and ExecutedVersion)",
        ),
        (
            "ServerErrors",
            "handled 500s: a database, secret or configuration failure raises no Lambda error "
            "(the request line's EMF metric ServerErrors with the dimensions function and version)",
        ),
    ],
    "authorizer": [
        (
            "Errors",
            "crashes at import, timeouts (a hung key fetch) and out-of-memory, which write no "
            "line of its own (AWS/Lambda Errors with FunctionName, Resource <function>:live and "
            "ExecutedVersion, less the refusals and failures it raised on purpose)",
        ),
        (
            "AuthorizerFailures",
            "failures that answer 500 (its EMF metric AuthorizerFailures with the dimensions function and version)",
        ),
        (
            "AuthorizerRefusals",
            "refusals: a version that refuses valid tokens (a bad JwtIssuer or "
            "JwtAudience, or a bug) answers 401 to every caller and is promoted (its "
            "EMF metric AuthorizerRefusals with function and version, compared with "
            "the old version's rate, with a floor)",
        ),
    ],
}


def rolled_out_functions(cfn: dict) -> dict[str, dict]:
    """The transformed template's functions but the deployment hooks the aliases' update policies name."""
    hooks = {
        str(hook.get("Ref"))
        for alias in resources(cfn, "AWS::Lambda::Alias").values()
        for hook in alias.get("UpdatePolicy", {}).get("CodeDeployLambdaAliasUpdate", {}).values()
        if isinstance(hook, dict)
    }
    return {name: function for name, function in resources(cfn, "AWS::Lambda::Function").items() if name not in hooks}


def check_canary_alarms(cfn: dict, evaluator: Evaluator, template: dict | None = None) -> list[str]:
    """Each deployment group rolls back on its new version's failures, and on nothing else.

    Every alarm of a group reads at least one metric narrowed to the version being
    deployed (the old version, another function or the whole stage cannot roll it
    back), and the group watches what users see: for an API function its Lambda
    errors and its handled 500s, for the authorizer its failures and its refusals.
    With the source ``template``, an alarm a group lists but nobody defines comes
    with a block to paste, renamed from another function's alarm of that kind.
    """
    found = []
    alarms = resources(cfn, "AWS::CloudWatch::Alarm")
    versions = {
        str(version["Properties"]["FunctionName"].get("Ref")): name
        for name, version in resources(cfn, "AWS::Lambda::Version").items()
    }
    authorizer = authorizer_function(cfn, evaluator)
    groups = resources(cfn, "AWS::CodeDeploy::DeploymentGroup")
    listed = {name for group in groups.values() for name in _alarm_names(group, evaluator)}
    for group_name, group in groups.items():
        function = group_name.removesuffix("DeploymentGroup")
        new_version = {"Fn::GetAtt": [versions.get(function), "Version"]}
        watched = set()
        for alarm_name in _alarm_names(group, evaluator):
            if alarm_name not in alarms:
                found.append(_missing_alarm(template or cfn, alarm_name, function, listed & set(alarms)))
                continue
            properties = alarms[alarm_name].get("Properties", {})
            metrics = alarm_metrics(properties)
            narrowed = [
                metric
                for metric in metrics
                if new_version in [item.get("Value") for item in metric.get("Dimensions", [])]
            ]
            watched |= {str(evaluator.value(metric.get("MetricName"))) for metric in narrowed}
            found += _alarm_scope_problems(alarm_name, function, metrics, narrowed)
        if not alarms_configured(group, evaluator):
            continue  # check_delivery says when a production group has no alarms
        kind = "authorizer" if function == authorizer else "api"
        for metric, what in ROLLBACK_METRICS[kind]:
            if metric not in watched:
                found.append(
                    f"{function}'s deployment group has no alarm on its new version's {what}: add one "
                    f"narrowed to version !GetAtt {function}.Version.Version and list it in {function}'s "
                    f"DeploymentPreference.Alarms"
                )
    return found


def _missing_alarm(template: dict, alarm_name: str, function: str, defined: set[str]) -> str:
    """The problem of a listed alarm nobody defines, with a copy of another function's alarm of its kind to paste."""
    problem = f"{function}'s DeploymentPreference.Alarms lists {alarm_name}, which the template does not define"
    kind = alarm_name.removeprefix(function.removesuffix("Function"))  # ServerErrorsAlarm
    resources_ = template.get("Resources", {})
    for model in sorted(name for name in defined if name.endswith(kind) and name != alarm_name):
        model_function = model.removesuffix(kind) + "Function"
        if model_function in resources_ and function in resources_ and model in resources_:
            copy = routes.renamed(
                resources_[model],
                model_function,
                function,
                routes.handler_module(resources_[model_function]),
                routes.handler_module(resources_[function]),
            )
            return addition(
                f"{problem} (here as {model} is for {model_function})",
                "template.yaml",
                ["Resources"],
                {alarm_name: copy},
            )
    return f"{problem}: add it"


def _alarm_scope_problems(alarm_name: str, function: str, metrics: list[dict], narrowed: list[dict]) -> list[str]:
    if len(metrics) == 1 and metrics[0].get("Namespace") == "AWS/Lambda":
        dimensions = {item["Name"]: item["Value"] for item in metrics[0].get("Dimensions", [])}
        expected = {
            "FunctionName": {"Ref": function},
            "Resource": {"Fn::Sub": f"${{{function}}}:live"},
            "ExecutedVersion": dimensions.get("ExecutedVersion"),
        }
        if narrowed and dimensions == expected:
            return []
        return [
            f"{alarm_name} rolls back {function}'s canary but counts {sorted(dimensions)}, so the old version's "
            f"errors (90% of the traffic) count too: give it the dimensions FunctionName, Resource "
            f"(<function>:live) and ExecutedVersion: !GetAtt {function}.Version.Version"
        ]
    if narrowed:
        return []
    if any(metric.get("Namespace") == "AWS/ApiGateway" for metric in metrics):
        return [
            f"{alarm_name} rolls back {function}'s canary but counts the whole stage (every function and "
            f"version): the old version's 5xx roll a good deploy back, one failing function rolls back all, "
            f"and during an incident it stops the deploy that would fix it: remove it from "
            f"DeploymentPreference.Alarms and keep it as a paging alarm (AlarmActions)"
        ]
    return [
        f"{alarm_name} rolls back {function}'s canary but counts every version: give its metric a version "
        f"dimension (the EMF line's version, from AWS_LAMBDA_FUNCTION_VERSION) and the alarm that dimension "
        f"= !GetAtt {function}.Version.Version"
    ]


def alarms_configured(group: dict, evaluator: Evaluator) -> bool:
    return bool(_alarm_names(group, evaluator))


def _alarm_names(group: dict, evaluator: Evaluator) -> list[str]:
    configuration = evaluator.value(group["Properties"].get("AlarmConfiguration", {}))
    return [str(alarm.get("Name", "")).strip("<>") for alarm in configuration.get("Alarms", [])]


def check_environment_parameters(template: dict) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Parameter values per samconfig environment, checked like CloudFormation; problems when refused."""
    values, found = {}, []
    declared = sam.environments()
    if set(declared) != {"dev", "prod"}:
        found.append(f"samconfig.toml defines the environments {sorted(declared)}: define exactly dev and prod")
    for environment, settings in declared.items():
        try:
            overrides = sam.parse_overrides(settings.get("parameter_overrides", ""))
            values[environment] = sam.parameter_values(template, overrides)
        except sam.ParameterError as exc:
            found.append(f"samconfig.toml [{environment}]: {exc}")
    return values, found


def check(template_path: Path = samtemplate.TEMPLATE) -> list[str]:
    """Every problem of the template, for every environment; empty when it is fit to deploy."""
    template = samtemplate.load(template_path)
    values, found = check_environment_parameters(template)
    for environment, parameters in sorted(values.items()):
        try:
            cfn = sam.translate(template, parameters)
        except Exception as exc:
            found.append(f"SAM cannot transform the template for {environment}: {exc}")
            continue
        evaluator = Evaluator(cfn, parameters)
        source = Evaluator(template, parameters)
        problems = (
            check_stages(cfn, evaluator)
            + check_authorizer(cfn, evaluator)
            + check_functions(template)
            + check_secrets(template, cfn)
            + check_boundaries(cfn)
            + check_delivery(cfn, evaluator, environment)
            + check_canary_alarms(cfn, evaluator, template)
        )
        problems += check_gateway_responses(cfn, evaluator, parameters.get("CorsAllowOrigins", ""))
        if environment == sorted(values)[0]:
            problems += (
                check_handlers_import(template, source)
                + check_environment(template, source)
                + check_versions(template, parameters)
                + check_cors_gateway_responses(template, parameters)
            )
            found += routes.check(template, cfn, evaluator)  # the same for every environment
        found += [f"[{environment}] {problem}" for problem in problems]
    return list(dict.fromkeys(found))
