"""make deploy: clear failures before anything reaches AWS; the post-deploy smoke test."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from moto import mock_aws

from handlers import health, me
from tests.apigw import rest_event
from tools import deploy
from tools.checks.imports import ROOT

VALID = {
    "MONGODB_URI_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bare-api/dev/mongodb-uri-AbCdEf",
    "JWT_SECRET_ARN": "arn:aws:ssm:eu-west-1:123456789012:parameter/bare-api/dev/jwt-secret",
    "JWT_ISSUER": "https://issuer.example.com/",
}

MAKE_DEPLOY = ["make", "-s", "-o", ".venv/.installed", "deploy"]  # -o: never rebuild the virtualenv from a test


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    """An environment with no AWS credentials or region anywhere (and no instance metadata lookups)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_make_deploy_without_the_sam_cli_says_how_to_install_it():
    path = f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin"  # no /usr/local/bin, where CI runners keep their sam
    result = subprocess.run([*MAKE_DEPLOY, "ENV=dev"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PATH": path}, timeout=120)
    assert result.returncode != 0
    assert "deploy: the AWS SAM CLI is not installed: `pip install aws-sam-cli`" in result.stderr


def test_make_deploy_with_an_unknown_environment_names_the_choices():
    result = subprocess.run([*MAKE_DEPLOY, "ENV=staging"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "deploy: unknown environment 'staging': use one of dev, prod" in result.stderr


def test_missing_credentials_are_refused_before_deploying(no_aws):
    with pytest.raises(deploy.DeployError, match=r"^no AWS credentials: run `aws sso login` or `aws configure`"):
        deploy.require_credentials()


def test_a_missing_region_is_refused_before_deploying(no_aws, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    with pytest.raises(deploy.DeployError, match=r"^no AWS region: export AWS_DEFAULT_REGION"):
        deploy.require_credentials()


def test_missing_user_parameters_are_named_by_their_variable():
    with pytest.raises(deploy.DeployError) as refused:
        deploy.parameter_overrides("dev", environ={})
    assert str(refused.value).startswith("set MONGODB_URI_SECRET_ARN (ARN of the Secrets Manager secret")
    assert "; JWT_ISSUER (the iss claim tokens must carry)" in str(refused.value)


def test_a_plain_connection_string_is_refused_as_the_secret():
    environ = {**VALID, "MONGODB_URI_SECRET_ARN": "mongodb+srv://app:password@cluster0.example.net/"}
    with pytest.raises(deploy.DeployError) as refused:
        deploy.parameter_overrides("dev", environ=environ)
    assert "does not match its AllowedPattern" in str(refused.value)
    assert str(refused.value).endswith("(from MONGODB_URI_SECRET_ARN)")


def test_overrides_join_samconfig_and_the_users_variables():
    overrides = deploy.parameter_overrides("prod", environ=VALID)
    assert overrides == {"DeploymentEnvironment": "prod", "StageName": "prod", "LogLevel": "INFO",
                         "MongoDbUriSecretArn": VALID["MONGODB_URI_SECRET_ARN"],
                         "JwtSecretArn": VALID["JWT_SECRET_ARN"], "JwtIssuer": VALID["JWT_ISSUER"]}


def test_the_api_url_comes_from_the_stack_outputs(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    body = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"ApiUrl": {"Value": "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/dev"}}}
    with mock_aws():
        client = boto3.client("cloudformation")
        client.create_stack(StackName="bare-api-dev", TemplateBody=json.dumps(body))
        assert deploy.api_url(client, "bare-api-dev") == "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/dev"


class StageOnLoopback(BaseHTTPRequestHandler):
    """The stage's two smoke-tested routes, answered by the real handlers from REST API events."""

    functions = {"/dev/health": health.lambda_handler, "/dev/me": me.lambda_handler}

    def do_GET(self):
        function = self.functions.get(self.path)
        path = self.path.removeprefix("/dev")
        result = function(rest_event("GET", path), None) if function else {"statusCode": 403, "body": ""}
        self.send_response(result["statusCode"])
        self.end_headers()
        self.wfile.write((result.get("body") or "").encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def stage_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), StageOnLoopback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/dev"
    server.shutdown()
    server.server_close()


def test_the_smoke_test_passes_on_health_200_and_me_401(stage_url):
    assert deploy.smoke(stage_url, attempts=1) == []


def test_the_smoke_test_reports_a_stage_that_answers_wrongly(stage_url):
    assert deploy.smoke(stage_url.removesuffix("/dev") + "/prod", attempts=2, pause_seconds=0.01) == [
        "GET /health answered 403, expected 200", "GET /me answered 403, expected 401"]


def test_the_bootstrap_bucket_and_role_are_used_when_given():
    assert deploy.bootstrap_options({}) == ["--resolve-s3"]
    assert deploy.bootstrap_options({"ARTIFACT_BUCKET": "bare-api-artifacts-1a2b",
                                     "CLOUDFORMATION_ROLE_ARN": "arn:aws:iam::123456789012:role/cfn"}) == [
        "--s3-bucket", "bare-api-artifacts-1a2b", "--role-arn", "arn:aws:iam::123456789012:role/cfn"]
