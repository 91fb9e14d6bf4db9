"""The PreTraffic hook against a local fake of Lambda's Invoke and CodeDeploy's hook status APIs.

The fake answers boto3 over loopback HTTP as AWS documents them (Invoke: ``POST
/2015-03-31/functions/<name>/invocations``, ``X-Amz-Function-Error`` on an error;
CodeDeploy: JSON 1.1 with ``X-Amz-Target``) and runs the real handlers and the
real authorizer in-process on the local database.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import authorizer
import pretraffic
from handlers import health, me, users
from tests.tokenkit import claims, sign
from tools import samtemplate
from tools.checks import canary

ARN = "arn:aws:lambda:us-east-1:123456789012:function:bare-api-prod-"
VERSIONS = {f"{ARN}AuthorizerFunction-A1:4": authorizer.lambda_handler,
            f"{ARN}HealthFunction-B2:7": health.lambda_handler, f"{ARN}MeFunction-C3:3": me.lambda_handler,
            f"{ARN}UsersFunction-D4:9": users.lambda_handler}
TARGETS = {"HOOK_AUTHORIZER": f"{ARN}AuthorizerFunction-A1:4",
           "HOOK_TARGET_HealthFunction": f"{ARN}HealthFunction-B2:7|GET /health open",
           "HOOK_TARGET_MeFunction": f"{ARN}MeFunction-C3:3|GET /me guarded",
           "HOOK_TARGET_UsersFunction": f"{ARN}UsersFunction-D4:9|GET /users/{{user_id}} guarded|GET /users guarded"}


class FakeAws(BaseHTTPRequestHandler):
    """Lambda's Invoke (running the handler named by the version) and CodeDeploy's hook status call."""

    versions: dict = {}
    reported: list = []
    invoked: list = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        target = self.headers.get("X-Amz-Target", "")
        if target == "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus":
            self.reported.append(body)
            return self.answer(200, {"lifecycleEventHookExecutionId": body["lifecycleEventHookExecutionId"]})
        name = urllib.parse.unquote(self.path.split("/functions/")[1].split("/invocations")[0])
        self.invoked.append(name)
        try:
            return self.answer(200, self.versions[name](body, None))
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
    for name, value in {"AWS_ENDPOINT_URL_LAMBDA": url, "AWS_ENDPOINT_URL_CODEDEPLOY": url,
                        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "SMOKE_TOKEN": "", **TARGETS}.items():
        monkeypatch.setenv(name, value)
    FakeAws.versions, FakeAws.reported, FakeAws.invoked = dict(VERSIONS), [], []
    yield FakeAws
    server.shutdown()
    server.server_close()


HOOK_EVENT = {"DeploymentId": "d-ABCDEF123", "LifecycleEventHookExecutionId": "execution-1"}


def test_good_versions_are_reported_succeeded_to_codedeploy(fake_aws):
    assert pretraffic.lambda_handler(HOOK_EVENT, None) == {"status": "Succeeded", "problems": []}
    assert fake_aws.reported == [{"deploymentId": "d-ABCDEF123", "lifecycleEventHookExecutionId": "execution-1",
                                  "status": "Succeeded"}]


def test_every_version_named_is_invoked_directly(fake_aws):
    pretraffic.lambda_handler(HOOK_EVENT, None)
    assert set(fake_aws.invoked) == set(VERSIONS)


def test_a_version_that_crashes_fails_the_deployment(fake_aws):
    def crashes(event, context):
        raise MemoryError("Runtime exited with error: signal: killed")

    fake_aws.versions[f"{ARN}HealthFunction-B2:7"] = crashes
    result = pretraffic.lambda_handler(HOOK_EVENT, None)
    assert result["problems"] == [
        "HealthFunction GET /health: Unhandled error: Runtime exited with error: signal: killed"]
    assert fake_aws.reported[0]["status"] == "Failed"


def test_a_bad_setting_fails_the_deployment_before_any_traffic(fake_aws, environment):
    environment(CORS_ALLOW_ORIGINS="app.example.com")
    result = pretraffic.lambda_handler(HOOK_EVENT, None)
    assert "HealthFunction GET /health: answered 500" in result["problems"]
    assert fake_aws.reported[0]["status"] == "Failed"


def test_an_authorizer_that_accepts_a_made_up_token_fails_the_deployment(fake_aws):
    fake_aws.versions[f"{ARN}AuthorizerFunction-A1:4"] = lambda event, context: {
        "principalId": "anyone", "policyDocument": {"Statement": [{"Effect": "Allow"}]}}
    result = pretraffic.lambda_handler(HOOK_EVENT, None)
    assert result["problems"][0].startswith("authorizer a made-up token: not refused")


def test_the_smoke_token_reaches_the_guarded_routes_through_the_new_authorizer(fake_aws):
    import boto3

    checks = pretraffic.run_checks(boto3.client("lambda"), token=sign(claims(sub="smoke-user")))
    assert [check for check in checks if check.problem] == []
    assert [check.request for check in checks] == ["a made-up token", "the smoke token", "GET /health", "GET /me",
                                                   "GET /users/{user_id}", "GET /users"]


def test_a_smoke_token_the_new_authorizer_refuses_fails_the_deployment(fake_aws):
    import boto3

    checks = pretraffic.run_checks(boto3.client("lambda"), token=sign(claims(iss="https://other.example.com/")))
    assert [check.problem.split(" (")[0] for check in checks if check.problem] == ["not accepted"]


def test_a_hook_that_cannot_reach_lambda_fails_the_deployment(fake_aws, monkeypatch):
    monkeypatch.setenv("HOOK_TARGET_HealthFunction", f"{ARN}Missing-Z9:1|GET /health open")
    result = pretraffic.lambda_handler(HOOK_EVENT, None)
    assert result["status"] == "Failed" and fake_aws.reported[0]["status"] == "Failed"


def test_the_template_hooks_every_rolled_out_function_with_its_get_routes():
    assert canary.check_hooks(samtemplate.load()) == []


def test_a_function_the_hook_does_not_exercise_is_named():
    template = samtemplate.load()
    variables = template["Resources"]["PreTrafficHookFunction"]["Properties"]["Environment"]["Variables"]
    del variables["HOOK_TARGET_MeFunction"]
    assert canary.check_hooks(template) == [
        "PreTrafficHookFunction does not exercise MeFunction's new version: set HOOK_TARGET_MeFunction: "
        "!Join [\"|\", [!Ref MeFunction.Version, \"GET /me guarded\"]] in its Environment"]


def test_no_api_function_imports_the_hook_and_its_zip_needs_no_boto3():
    from tools.checks import imports

    for name, resource in samtemplate.functions(samtemplate.load()).items():
        module = resource["Properties"]["Handler"].rpartition(".")[0]
        assert "pretraffic" not in imports.closure(module).modules, name
    assert "boto3" not in imports.closure("pretraffic").third_party  # the Lambda runtime provides it
