"""The PreTraffic hook against a local fake of Lambda's Invoke and CodeDeploy's hook status APIs.

The fake answers boto3 over loopback HTTP as AWS documents them (Invoke: ``POST
/2015-03-31/functions/<name>/invocations``, ``X-Amz-Function-Error`` on an error;
CodeDeploy: JSON 1.1 with ``X-Amz-Target``) and runs the real health handler, the
fixture resource (parcels) and the real authorizer in-process on the local database.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import authorizer
import pretraffic
from handlers import health
from tests.fixtures.resources import parcels
from tests.tokenkit import claims, sign
from tools import samtemplate
from tools.checks import canary

ARN = "arn:aws:lambda:us-east-1:123456789012:function:bare-api-prod-"
SOURCE = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5"
# {function: (its handler, the source ARNs of its alias's resource policy)}, as SAM's permissions give them
FUNCTIONS = {
    "bare-api-prod-AuthorizerFunction-A1": (authorizer.lambda_handler, [f"{SOURCE}/authorizers/x1y2z3"]),
    "bare-api-prod-HealthFunction-B2": (
        health.lambda_handler,
        [f"{SOURCE}/*/GET/health", f"{SOURCE}/*/OPTIONS/health"],
    ),
    "bare-api-prod-ParcelsFunction-C3": (
        parcels.lambda_handler,
        [
            f"{SOURCE}/*/POST/parcels",
            f"{SOURCE}/*/GET/parcels",
            f"{SOURCE}/*/GET/parcels/*",
            f"{SOURCE}/*/POST/parcels/*/cancel",
        ],
    ),
}


class FakeAws(BaseHTTPRequestHandler):
    """Lambda's Invoke and GetPolicy, and CodeDeploy's deployment targets and hook status (AWS's wire formats)."""

    handlers: dict = {}
    deploying: list = []  # (function, new version) of the deployment
    reported: list = []
    invoked: list = []

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        name = urllib.parse.unquote(url.path.split("/functions/")[1].split("/policy")[0])
        statements = [
            {
                "Effect": "Allow",
                "Principal": {"Service": "apigateway.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": f"{ARN}{name}:live",
                "Condition": {"ArnLike": {"AWS:SourceArn": source}},
            }
            for source in FUNCTIONS[name][1]
        ]
        self.answer(200, {"Policy": json.dumps({"Version": "2012-10-17", "Statement": statements}), "RevisionId": "r1"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
        if operation == "ListDeploymentTargets":
            return self.answer(200, {"targetIds": [f"target-{index}" for index in range(len(self.deploying))]})
        if operation == "GetDeploymentTarget":
            function, version = self.deploying[int(body["targetId"].rpartition("-")[2])]
            info = {
                "functionName": function,
                "functionAlias": "live",
                "currentVersion": str(int(version) - 1),
                "targetVersion": version,
                "targetVersionWeight": 0.0,
            }
            return self.answer(
                200,
                {
                    "deploymentTarget": {
                        "deploymentTargetType": "LambdaTarget",
                        "lambdaTarget": {"lambdaFunctionInfo": info},
                    }
                },
            )
        if operation == "PutLifecycleEventHookExecutionStatus":
            self.reported.append(body)
            return self.answer(200, {"lifecycleEventHookExecutionId": body["lifecycleEventHookExecutionId"]})
        name = urllib.parse.unquote(self.path.split("/functions/")[1].split("/invocations")[0])
        self.invoked.append(name)
        try:
            function = name.split(":function:")[-1].rpartition(":")[0]  # a name or an ARN, with its qualifier
            return self.answer(200, self.handlers[function](body, None))
        except Exception as error:
            return self.answer(200, {"errorMessage": str(error), "errorType": type(error).__name__}, "Unhandled")

    def answer(self, status: int, document, function_error: str = "") -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if function_error:
            self.send_header("X-Amz-Function-Error", function_error)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_aws(monkeypatch, database, configure):
    """The fake on loopback, boto3 pointed at it, the real functions on the local database with the local issuer."""
    configure()
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAws)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    for name, value in {
        "AWS_ENDPOINT_URL_LAMBDA": url,
        "AWS_ENDPOINT_URL_CODEDEPLOY": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SMOKE_TOKEN": "",
        "HOOK_AUTHORIZER": f"{ARN}AuthorizerFunction-A1:live",
    }.items():
        monkeypatch.setenv(name, value)
    FakeAws.handlers = {name: handler for name, (handler, _) in FUNCTIONS.items()}
    FakeAws.deploying = [(name, "7") for name in FUNCTIONS]
    FakeAws.reported, FakeAws.invoked = [], []
    yield FakeAws
    server.shutdown()
    server.server_close()


HOOK_EVENT = {"DeploymentId": "d-ABCDEF123", "LifecycleEventHookExecutionId": "execution-1"}


def test_good_versions_are_reported_succeeded_to_codedeploy(fake_aws):
    assert pretraffic.lambda_handler(HOOK_EVENT, None) == {"status": "Succeeded", "problems": []}
    assert fake_aws.reported == [
        {"deploymentId": "d-ABCDEF123", "lifecycleEventHookExecutionId": "execution-1", "status": "Succeeded"}
    ]


def test_each_new_version_is_invoked_directly_on_every_get_route(fake_aws):
    pretraffic.lambda_handler(HOOK_EVENT, None)
    assert sorted(set(fake_aws.invoked)) == sorted(f"{name}:7" for name in FUNCTIONS)


def test_the_routes_come_from_the_aliases_resource_policy(fake_aws):
    import boto3

    target = pretraffic.Target("bare-api-prod-ParcelsFunction-C3", "live", "7")
    assert pretraffic.callers(boto3.client("lambda"), target) == (["GET /parcels", "GET /parcels/pretraffic"], False)


def test_a_version_that_crashes_fails_the_deployment(fake_aws):
    def crashes(event, context):
        raise MemoryError("Runtime exited with error: signal: killed")

    fake_aws.handlers["bare-api-prod-HealthFunction-B2"] = crashes
    result = pretraffic.lambda_handler(HOOK_EVENT, None)
    assert result["problems"] == [
        "bare-api-prod-HealthFunction-B2 GET /health: Unhandled error: Runtime exited with error: signal: killed"
    ]
    assert fake_aws.reported[0]["status"] == "Failed"


def test_a_bad_setting_fails_the_deployment_before_any_traffic(fake_aws, environment):
    environment(CORS_ALLOW_ORIGINS="app.example.com")
    result = pretraffic.lambda_handler(HOOK_EVENT, None)
    assert "bare-api-prod-HealthFunction-B2 GET /health: answered 500" in result["problems"]
    assert fake_aws.reported[0]["status"] == "Failed"


def test_an_authorizer_that_accepts_a_made_up_token_fails_the_deployment(fake_aws):
    fake_aws.handlers["bare-api-prod-AuthorizerFunction-A1"] = lambda event, context: {
        "principalId": "anyone",
        "policyDocument": {"Statement": [{"Effect": "Allow"}]},
    }
    result = pretraffic.lambda_handler(HOOK_EVENT, None)
    assert result["problems"][0].startswith("bare-api-prod-AuthorizerFunction-A1 a made-up token: not refused")


def test_the_smoke_token_reaches_the_guarded_routes_through_the_live_authorizer(fake_aws):
    import boto3

    targets = [pretraffic.Target(name, "live", "7") for name in FUNCTIONS]
    checks = pretraffic.run_checks(boto3.client("lambda"), targets, sign(claims(sub="smoke-user")))
    assert [check for check in checks if check.problem] == []
    assert [check.request for check in checks] == [
        "a made-up token",
        "the smoke token",
        "GET /health",
        "GET /parcels",
        "GET /parcels/pretraffic",
    ]


def test_a_smoke_token_the_authorizer_refuses_fails_the_deployment(fake_aws):
    import boto3

    targets = [pretraffic.Target("bare-api-prod-AuthorizerFunction-A1", "live", "7")]
    checks = pretraffic.run_checks(boto3.client("lambda"), targets, sign(claims(iss="https://other.example.com/")))
    assert [check.problem.split(" (")[0] for check in checks if check.problem] == [
        "not accepted by the live authorizer",
        "not accepted",
    ]


def test_only_the_deployments_own_function_is_exercised(fake_aws):
    fake_aws.deploying = [("bare-api-prod-ParcelsFunction-C3", "12")]
    assert pretraffic.lambda_handler(HOOK_EVENT, None)["status"] == "Succeeded"
    assert set(fake_aws.invoked) == {"bare-api-prod-ParcelsFunction-C3:12"}


def test_a_hook_that_cannot_reach_lambda_fails_the_deployment(fake_aws):
    fake_aws.deploying = [("bare-api-prod-Missing-Z9", "1")]
    result = pretraffic.lambda_handler(HOOK_EVENT, None)
    assert result["status"] == "Failed" and fake_aws.reported[0]["status"] == "Failed"


def test_the_template_hooks_every_rolled_out_function():
    assert canary.check_hooks(samtemplate.load()) == []


def test_a_function_that_rolls_out_without_the_hook_is_named():
    template = samtemplate.load()
    function = next(
        name for name, resource in samtemplate.functions(template).items() if canary.hook_of(resource["Properties"])
    )
    del template["Resources"][function]["Properties"]["DeploymentPreference"]["Hooks"]
    assert canary.check_hooks(template) == [
        f"{function} rolls out with no PreTraffic hook, so its new version takes traffic unexercised: set "
        f"DeploymentPreference.Hooks.PreTraffic: !Ref PreTrafficHookFunction"
    ]


def test_no_api_function_imports_the_hook_and_its_zip_needs_no_boto3():
    from tools.checks import imports

    for name, resource in samtemplate.functions(samtemplate.load()).items():
        module = resource["Properties"]["Handler"].rpartition(".")[0]
        assert "pretraffic" not in imports.closure(module).modules, name
    assert "boto3" not in imports.closure("pretraffic").third_party  # the Lambda runtime provides it
