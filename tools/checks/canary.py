"""Assertions on the canary of every function: the PreTraffic hook, alarms that start afresh and tolerate a blip.

- every function that rolls out (``DeploymentPreference``) names the PreTraffic
  hook, which derives the new version and its routes from the deployment, and
  whose ``HOOK_AUTHORIZER`` names the live authorizer when there is one;
- every alarm a deployment group rolls back on is named after the version
  (``AlarmName`` with ``${<function>.Version.Version}``): CloudFormation replaces
  an alarm whose name changes, so each deployment starts with a fresh alarm,
  while ``PutMetricAlarm`` on an existing one keeps its state;
- an alarm on handled 500s or authorizer failures fires on two minutes of three
  (``DatapointsToAlarm`` 2 or more), so one transient blip rolls nothing back, and
  the stage's 5xx alarm pages on two minutes of three;
- every parameter the functions validate refuses what the functions refuse or
  rewrite (:data:`PROBES`), so a bad value fails the deploy, not every request;
- a REST API whose gateway responses depend on parameters sets ``AlwaysDeploy``, and each
  gateway response sets its JSON body (``{"message": ...}``) itself;
- an HTTP API template promises no X-Ray trace of its API (HTTP APIs have none).
"""

from __future__ import annotations

import re

from tools import samtemplate
from tools.checks.cfn_rules._common import rendered

BLIP_METRICS = {"ServerErrors", "AuthorizerFailures"}
# Values the functions' settings parser refuses or rewrites, per variable; ``rewritten`` gives what they keep.
PROBES = {
    "CORS_ALLOW_ORIGINS": (
        "app.example.com",
        "https://a.example.com, https://b.example.com",
        "https://a.example.com/",
        "ftp://a.example.com",
        "https://a.example.com/app",
    )
}


def hook_of(properties: dict) -> str:
    """The logical id of the PreTraffic hook a function's DeploymentPreference names, or ""."""
    hook = ((properties.get("DeploymentPreference") or {}).get("Hooks") or {}).get("PreTraffic")
    return hook.get("Ref", "") if isinstance(hook, dict) else ""


def authorizer_name(template: dict) -> str:
    """The function a REST or HTTP API's Lambda authorizer names, or "" (API Gateway's JWT authorizer)."""
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi"):
            for declared in ((resource.get("Properties", {}).get("Auth") or {}).get("Authorizers") or {}).values():
                name = samtemplate.function_of_arn(declared.get("FunctionArn"))
                if name:
                    return name
    return ""


def check_hooks(template: dict) -> list[str]:
    """Every rolled-out function names the PreTraffic hook; the hook knows the live authorizer, if any.

    The hook derives the rest from the deployment (its target) and the alias's resource policy (its routes).
    """
    found = []
    authorizer = authorizer_name(template)
    hooks = samtemplate.hooks(template)
    for function, resource in samtemplate.functions(template).items():
        properties = resource.get("Properties", {})
        if "DeploymentPreference" in properties and hook_of(properties) not in hooks:
            found.append(
                f"{function} rolls out with no PreTraffic hook, so its new version takes traffic unexercised: "
                f"set DeploymentPreference.Hooks.PreTraffic: !Ref PreTrafficHookFunction"
            )
    expected = {"Fn::Sub": f"${{{authorizer}.Arn}}:live"}
    for hook, resource in hooks.items():
        variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
        if authorizer and variables.get("HOOK_AUTHORIZER") != expected:
            found.append(
                f"{hook} cannot call the guarded routes as the smoke-test user: set HOOK_AUTHORIZER: !Sub "
                f"${{{authorizer}.Arn}}:live in its Environment"
            )
    return found


def rollback_alarms(properties: dict) -> list[str]:
    """The alarms a function's DeploymentPreference lists, in any branch of an ``Fn::If``."""
    alarms = (properties.get("DeploymentPreference") or {}).get("Alarms") or []
    branches = alarms["Fn::If"][1:] if isinstance(alarms, dict) and "Fn::If" in alarms else [alarms]
    return [
        item["Ref"]
        for branch in branches
        if isinstance(branch, list)
        for item in branch
        if isinstance(item, dict) and isinstance(item.get("Ref"), str)
    ]


def check_alarms(template: dict) -> list[str]:
    """Each rollback alarm is named after its function's version, and an alarm on 500s tolerates one blip."""
    found = []
    resources = template.get("Resources", {})
    for function, resource in samtemplate.functions(template).items():
        for alarm in rollback_alarms(resource.get("Properties", {})):
            properties = resources.get(alarm, {}).get("Properties", {})
            name = rendered(properties.get("AlarmName")) or ""
            if f"<{function}.Version.Version>" not in name:
                found.append(
                    f"{alarm} keeps its name across deployments, so an alarm still in ALARM rolls the next "
                    f"version back at once (PutMetricAlarm keeps an alarm's state): set AlarmName: !Sub "
                    f"${{AWS::StackName}}-{alarm.removesuffix('Alarm')}-v${{{function}.Version.Version}}"
                )
            queries = [query for query in properties.get("Metrics", []) if query.get("ReturnData", True)]
            # what the alarm compares, not what an expression subtracts
            metrics = {properties.get("MetricName")} | {
                query.get("MetricStat", {}).get("Metric", {}).get("MetricName") for query in queries
            }
            if metrics & BLIP_METRICS and int(properties.get("DatapointsToAlarm", 1)) < 2:
                found.append(
                    f"{alarm} rolls back on one minute with a 500, so one transient blip (a database "
                    f"failover) undoes a good release: set EvaluationPeriods: 3 and DatapointsToAlarm: 2"
                )
    return found


PAGING_5XX = {"5XXError", "5xx"}  # the stage's 5xx, REST API and HTTP API


def check_paging(template: dict) -> list[str]:
    """An alarm on the stage's 5xx pages on two minutes of three, not on one transient blip."""
    return [
        f"{name} pages on one minute of 5xx, so one transient blip (a database failover) pages someone: set "
        f"EvaluationPeriods: 3 and DatapointsToAlarm: 2"
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::CloudWatch::Alarm"
        and resource.get("Properties", {}).get("MetricName") in PAGING_5XX
        and int(resource["Properties"].get("DatapointsToAlarm", 1)) < 2
    ]


def check_parameter_rules(template: dict) -> list[str]:
    """Parameters given to variables the functions validate refuse the values the functions refuse or rewrite."""
    from shared import config

    found = []
    variables = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    for variable, probes in PROBES.items():
        parameter = (variables.get(variable) or {}).get("Ref", "")
        declaration = template.get("Parameters", {}).get(parameter)
        if declaration is None:
            continue
        pattern = declaration.get("AllowedPattern", ".*")
        for probe in probes:
            if not re.fullmatch(pattern, probe):
                continue
            try:
                kept = ",".join(config.load({variable: probe}).cors_allow_origins)
            except config.ConfigError:
                kept = None
            if kept != probe:
                found.append(
                    f"parameter {parameter} accepts {probe!r}, which the functions "
                    f"{'refuse' if kept is None else f'read as {kept!r}'}: give it an AllowedPattern "
                    f"that refuses it, so that the deploy fails instead of every request"
                )
    return found


def _intrinsic(value) -> bool:
    if isinstance(value, dict):
        return any(key == "Ref" or key.startswith("Fn::") or _intrinsic(item) for key, item in value.items())
    return isinstance(value, list) and any(_intrinsic(item) for item in value)


def check_redeploy(template: dict) -> list[str]:
    """A REST API whose gateway responses depend on parameters is redeployed on every stack update."""
    return [
        f"{name}'s GatewayResponses depend on parameters, but SAM redeploys the API only when its definition's "
        f"text changes, and API Gateway serves a changed gateway response only once redeployed: set "
        f"AlwaysDeploy: true"
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::Serverless::Api"
        and _intrinsic(resource.get("Properties", {}).get("GatewayResponses"))
        and resource["Properties"].get("AlwaysDeploy") is not True
    ]


GATEWAY_BODY = '{"message":$context.error.messageString}'


def check_gateway_bodies(template: dict) -> list[str]:
    """Each REST API gateway response sets the JSON body the docs promise; SAM alone writes an empty template."""
    found = []
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Api":
            continue
        for kind, response in (resource.get("Properties", {}).get("GatewayResponses") or {}).items():
            if (response.get("ResponseTemplates") or {}).get("application/json") != GATEWAY_BODY:
                found.append(
                    f"{name}'s gateway response {kind} leaves its body to API Gateway (SAM writes "
                    f'"responseTemplates": {{}}): set ResponseTemplates: {{application/json: '
                    f"'{GATEWAY_BODY}'}}"
                )
    return found


def check_tracing_promise(template: dict) -> list[str]:
    """An HTTP API template's tracing parameter promises no trace of the API: HTTP APIs have no X-Ray."""
    kinds = {resource.get("Type") for resource in template.get("Resources", {}).values()}
    http = "AWS::Serverless::HttpApi" in kinds
    return [
        f"parameter {name} promises tracing of the API stage, but HTTP APIs do not support X-Ray: say it traces "
        f"the functions only"
        for name, declaration in template.get("Parameters", {}).items()
        if http and "Tracing" in name and "stage" in str(declaration.get("Description", "")).lower()
    ]


def check(template: dict) -> list[str]:
    """Every problem of the canaries of ``template`` (a SAM template, before the transform)."""
    return (
        check_hooks(template)
        + check_alarms(template)
        + check_paging(template)
        + check_parameter_rules(template)
        + check_redeploy(template)
        + check_gateway_bodies(template)
        + check_tracing_promise(template)
    )
