"""The PreTraffic hook: CodeDeploy runs it before any traffic shifts to a function's new version.

CodeDeploy invokes it with ``DeploymentId`` and ``LifecycleEventHookExecutionId``
(SAM's ``DeploymentPreference.Hooks.PreTraffic``; see docs/deploy.md). Everything
it checks is derived from the deployment, so any function that names it is
exercised, with nothing to list per function:

- the function and its new version: the deployment's target
  (``ListDeploymentTargets``, ``GetDeploymentTarget``: ``lambdaFunctionInfo``);
- what calls the function: the alias's resource policy (``GetPolicy``), whose
  statements API Gateway's permissions add, one per route
  (``.../<api>/*/GET/users/*``) or per authorizer (``.../<api>/authorizers/<id>``).

It invokes the new version directly, never through the alias: every GET route
must answer below 500 (a crash at import, a timeout, an out-of-memory or a bad
setting fails it); an authorizer must refuse a made-up token and accept the smoke
token (``SMOKE_TOKEN``, a Secrets Manager or SSM reference, if any). With a smoke
token, the routes are called as its user, through the live authorizer
(``HOOK_AUTHORIZER``, its alias ARN, when the API has an authorizer function).

Then it reports ``Succeeded`` or ``Failed`` with
``codedeploy:PutLifecycleEventHookExecutionStatus``; a failed hook stops the
deployment before the alias moves. It is its own function and may use boto3
(the Lambda runtime provides it); no API function imports this module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

REFUSED_TOKEN = "Bearer pretraffic.made-up.token"
METHOD_ARN = "arn:aws:execute-api:us-east-1:000000000000:pretraffic/hook/GET/"


class Check(NamedTuple):
    """One request to one version, and what came of it."""

    target: str
    request: str
    problem: str  # empty when the check passed


class Target(NamedTuple):
    """The function a deployment shifts, its alias and the version it shifts to."""

    function: str
    alias: str
    version: str

    @property
    def qualified(self) -> str:
        return f"{self.function}:{self.version}"


def deployment_targets(codedeploy: Any, deployment_id: str) -> list[Target]:
    """The functions and new versions of the deployment (one for a Lambda deployment group)."""
    found: list[Target] = []
    for target_id in codedeploy.list_deployment_targets(deploymentId=deployment_id).get("targetIds", []):
        target = codedeploy.get_deployment_target(deploymentId=deployment_id, targetId=target_id)["deploymentTarget"]
        info = target.get("lambdaTarget", {}).get("lambdaFunctionInfo", {})
        found.append(Target(info["functionName"], info["functionAlias"], info["targetVersion"]))
    return found


def callers(lambda_client: Any, target: Target) -> tuple[list[str], bool]:
    """``(["GET /path", ...], is an authorizer)`` from the alias's resource policy."""
    policy = json.loads(lambda_client.get_policy(FunctionName=target.function, Qualifier=target.alias)["Policy"])
    routes: list[str] = []
    authorizer = False
    for statement in policy.get("Statement", []):
        source = str(statement.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn", ""))
        parts = source.split(":", 5)[-1].split("/")  # <api>/<stage>/<METHOD>/<path...> or <api>/authorizers/<id>
        if len(parts) >= 2 and parts[1] == "authorizers":
            authorizer = True
        elif len(parts) >= 3 and parts[2] == "GET":
            path = "/" + "/".join("pretraffic" if part == "*" else part for part in parts[3:])
            routes.append(f"GET {path}")
    return sorted(set(routes)), authorizer


def rest_event(method: str, path: str, authorizer: dict[str, Any] | None) -> dict[str, Any]:
    """A REST API (payload 1.0) event for ``method path``, with the authorizer's context if any."""
    context: dict[str, Any] = {
        "requestId": "pretraffic",
        "stage": "hook",
        "httpMethod": method,
        "path": path,
        "identity": {"sourceIp": "127.0.0.1"},
    }
    if authorizer:
        context["authorizer"] = authorizer
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"accept": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": context,
    }


def invoke(client: Any, function: str, event: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """``(answer, "")`` when the function answered, else ``(None, why)`` (a crash, a timeout, out of memory)."""
    response = client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    body = response["Payload"].read()
    if response.get("FunctionError"):
        try:
            message = json.loads(body).get("errorMessage", "")
        except (ValueError, AttributeError):
            message = body[:200].decode(errors="replace")
        return None, f"{response['FunctionError']} error: {message}"
    try:
        return json.loads(body), ""
    except ValueError:
        return None, "the answer is not JSON"


def authorize(client: Any, function: str, token: str) -> tuple[dict[str, Any] | None, str]:
    """The context ``function`` (an authorizer) allows ``token`` with, or None and why not."""
    answer, why = invoke(
        client, function, {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": METHOD_ARN}
    )
    statement = ((answer or {}).get("policyDocument", {}).get("Statement") or [{}])[0]
    if answer is None or statement.get("Effect") != "Allow":
        return None, why or str(answer)
    return {**answer.get("context", {}), "principalId": answer.get("principalId", "")}, ""


def check_authorizer(client: Any, target: Target, token: str) -> list[Check]:
    """The new authorizer version refuses a made-up token and accepts the smoke token, if any."""
    answer, why = invoke(
        client, target.qualified, {"type": "TOKEN", "authorizationToken": REFUSED_TOKEN, "methodArn": METHOD_ARN}
    )
    refused = answer is None and why.endswith("error: Unauthorized")
    checks = [Check(target.function, "a made-up token", "" if refused else f"not refused ({why or answer})")]
    if token:
        context, why = authorize(client, target.qualified, token)
        checks.append(Check(target.function, "the smoke token", "" if context else f"not accepted ({why})"))
    return checks


def check_route(client: Any, target: Target, route: str, context: dict[str, Any] | None) -> Check:
    """One GET of one route: an answer below 500."""
    method, path = route.split(" ", 1)
    answer, why = invoke(client, target.qualified, rest_event(method, path, context))
    status = (answer or {}).get("statusCode")
    if answer is None or not isinstance(status, int):
        return Check(target.function, route, why or f"no statusCode in {answer}")
    return Check(target.function, route, f"answered {status}" if status >= 500 else "")


def run_checks(
    lambda_client: Any, targets: list[Target], token: str = "", environ: Mapping[str, str] = os.environ
) -> list[Check]:
    """Every check of every target."""
    checks: list[Check] = []
    live_authorizer = environ.get("HOOK_AUTHORIZER", "").strip()
    context = None
    if token and live_authorizer:
        context, why = authorize(lambda_client, live_authorizer, token)
        if context is None:
            checks.append(Check(live_authorizer, "the smoke token", f"not accepted by the live authorizer ({why})"))
    for target in targets:
        routes, is_authorizer = callers(lambda_client, target)
        if is_authorizer:
            checks += check_authorizer(lambda_client, target, token)
        checks += [check_route(lambda_client, target, route, context) for route in routes]
        if not routes and not is_authorizer:
            checks.append(Check(target.function, "its callers", "no route or authorizer calls its alias"))
    return checks


def smoke_token(environ: Mapping[str, str] = os.environ) -> str:
    """The smoke token from the reference in ``SMOKE_TOKEN``, or empty."""
    reference = environ.get("SMOKE_TOKEN", "").strip()
    if not reference:
        return ""
    from shared import secrets

    return secrets.fetch(reference).strip()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run the checks, report Succeeded or Failed to CodeDeploy, and return what was found."""
    import boto3

    codedeploy = boto3.client("codedeploy")
    try:
        targets = deployment_targets(codedeploy, event["DeploymentId"])
        checks = run_checks(boto3.client("lambda"), targets, smoke_token())
        problems = [f"{check.target} {check.request}: {check.problem}" for check in checks if check.problem]
    except Exception as failure:  # a hook that cannot check must fail the deployment, never pass it
        checks, problems = [], [f"the checks could not run ({type(failure).__name__}: {failure})"]
    status = "Failed" if problems else "Succeeded"
    print(
        json.dumps(
            {
                "level": "ERROR" if problems else "INFO",
                "message": "pretraffic",
                "status": status,
                "checks": len(checks),
                "problems": problems,
            }
        )
    )
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    return {"status": status, "problems": problems}
