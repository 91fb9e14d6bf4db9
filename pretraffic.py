"""The PreTraffic hook: CodeDeploy runs it before any traffic shifts to a new version.

CodeDeploy invokes it with ``DeploymentId`` and ``LifecycleEventHookExecutionId``
(SAM's ``DeploymentPreference.Hooks.PreTraffic``; see docs/deploy.md). It invokes
every new version named in its environment directly, never through the alias:

- ``HOOK_TARGET_<Function>``: ``<version ARN>|<METHOD path access>|...``, one
  entry per GET route of the function (``open`` for a public route, ``guarded``
  for one behind the authorizer); every request must get an answer below 500
  (a crash, a timeout, an out-of-memory or a bad setting fails it), and an open
  route must answer 2xx;
- ``HOOK_AUTHORIZER``: the authorizer's version ARN, if the stack has one: a
  made-up token must be refused, and the smoke token (if any) accepted, whose
  context then goes with the guarded routes' requests;
- ``SMOKE_TOKEN``: a Secrets Manager or SSM reference (``shared.secrets``) to a
  valid token of a dedicated smoke-test user, or empty.

Then it reports ``Succeeded`` or ``Failed`` with
``codedeploy:PutLifecycleEventHookExecutionStatus``; a failed hook stops the
deployment before the alias moves. It is its own function and may use boto3
(the Lambda runtime provides it); no API function imports this module.
"""

from __future__ import annotations

import json
import os
from typing import NamedTuple

TARGET_PREFIX = "HOOK_TARGET_"
REFUSED_TOKEN = "Bearer pretraffic.made-up.token"
METHOD_ARN = "arn:aws:execute-api:us-east-1:000000000000:pretraffic/hook/GET/"


class Check(NamedTuple):
    """One request to one version, and what came of it."""

    target: str
    request: str
    problem: str  # empty when the check passed


def targets(environ=os.environ) -> dict[str, tuple[str, list[tuple[str, str, str]]]]:
    """``{function: (version ARN, [(method, path, access)])}`` from the ``HOOK_TARGET_*`` variables."""
    found = {}
    for name, value in sorted(environ.items()):
        if name.startswith(TARGET_PREFIX) and value.strip():
            version, *routes = value.split("|")
            found[name.removeprefix(TARGET_PREFIX)] = (version, [tuple(route.split(" ", 2)) for route in routes])
    return found


def rest_event(method: str, path: str, authorizer: dict | None) -> dict:
    """A REST API (payload 1.0) event for ``method path``, with the authorizer's context if any."""
    filled = "/".join("pretraffic" if part.startswith("{") else part for part in path.split("/"))
    context = {"requestId": "pretraffic", "stage": "hook", "httpMethod": method, "resourcePath": path,
               "path": filled, "identity": {"sourceIp": "127.0.0.1"}}
    if authorizer:
        context["authorizer"] = authorizer
    return {"resource": path, "path": filled, "httpMethod": method, "headers": {"accept": "application/json"},
            "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
            "pathParameters": None, "body": None, "isBase64Encoded": False, "requestContext": context}


def invoke(client, version: str, event: dict) -> tuple[dict | None, str]:
    """``(answer, "")`` when the version answered, else ``(None, why)`` (a crash, a timeout, out of memory)."""
    response = client.invoke(FunctionName=version, Payload=json.dumps(event).encode())
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


def check_authorizer(client, version: str, token: str) -> tuple[list[Check], dict | None]:
    """A made-up token refused; the smoke token (if any) accepted. Returns the checks and its context."""
    answer, why = invoke(client, version, {"type": "TOKEN", "authorizationToken": REFUSED_TOKEN,
                                           "methodArn": METHOD_ARN})
    refused = answer is None and why.endswith("error: Unauthorized")
    checks = [Check("authorizer", "a made-up token", "" if refused else f"not refused ({why or answer})")]
    if not token:
        return checks, None
    answer, why = invoke(client, version, {"type": "TOKEN", "authorizationToken": f"Bearer {token}",
                                           "methodArn": METHOD_ARN})
    statement = ((answer or {}).get("policyDocument", {}).get("Statement") or [{}])[0]
    if answer is None or statement.get("Effect") != "Allow":
        return [*checks, Check("authorizer", "the smoke token", f"not accepted ({why or answer})")], None
    context = {**answer.get("context", {}), "principalId": answer.get("principalId", "")}
    return [*checks, Check("authorizer", "the smoke token", "")], context


def check_route(client, target: str, version: str, route: tuple[str, str, str], context: dict | None) -> Check:
    """One GET of one route: an answer below 500, and 2xx for an open route."""
    method, path, access = route
    answer, why = invoke(client, version, rest_event(method, path, context if access == "guarded" else None))
    status = (answer or {}).get("statusCode")
    label = f"{method} {path}"
    if answer is None or not isinstance(status, int):
        return Check(target, label, why or f"no statusCode in {answer}")
    if status >= 500 or (access == "open" and not 200 <= status < 300):
        return Check(target, label, f"answered {status}")
    return Check(target, label, "")


def run_checks(client, environ=os.environ, token: str = "") -> list[Check]:
    """Every check of every version named in ``environ``."""
    checks, context = [], None
    authorizer = environ.get("HOOK_AUTHORIZER", "").strip()
    if authorizer:
        checks, context = check_authorizer(client, authorizer, token)
    for target, (version, routes) in targets(environ).items():
        checks += [check_route(client, target, version, route, context) for route in routes]
    return checks


def smoke_token(environ=os.environ) -> str:
    """The smoke token from the reference in ``SMOKE_TOKEN``, or empty."""
    reference = environ.get("SMOKE_TOKEN", "").strip()
    if not reference:
        return ""
    from shared import secrets

    return secrets.fetch(reference).strip()


def lambda_handler(event, context) -> dict:
    """Run the checks, report Succeeded or Failed to CodeDeploy, and return what was found."""
    import boto3

    try:
        checks = run_checks(boto3.client("lambda"), token=smoke_token())
        problems = [f"{check.target} {check.request}: {check.problem}" for check in checks if check.problem]
    except Exception as failure:  # a hook that cannot check must fail the deployment, never pass it
        checks, problems = [], [f"the checks could not run ({type(failure).__name__}: {failure})"]
    status = "Failed" if problems else "Succeeded"
    print(json.dumps({"level": "ERROR" if problems else "INFO", "message": "pretraffic", "status": status,
                      "checks": len(checks), "problems": problems}))
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"], lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status)
    return {"status": status, "problems": problems}
