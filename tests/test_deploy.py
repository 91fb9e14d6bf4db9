"""make deploy: clear failures before anything reaches AWS; the post-deploy smoke test."""

from __future__ import annotations

import io
import json
import os
import subprocess
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import product

import boto3
import pytest
from moto import mock_aws

from handlers import health
from shared.responses import json_response
from shared.router import Router
from tests.apigw import rest_event
from tools import deploy, samtemplate
from tools.checks import sam
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
    result = subprocess.run(
        [*MAKE_DEPLOY, "ENV=dev"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **VALID, "PATH": path},
        timeout=120,
    )
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


def test_overrides_join_samconfig_the_users_variables_and_the_template_defaults():
    overrides = deploy.parameter_overrides("prod", environ=VALID)
    assert overrides == {
        "DeploymentEnvironment": "prod",
        "StageName": "prod",
        "LogLevel": "INFO",
        "MongoDbUriSecretArn": VALID["MONGODB_URI_SECRET_ARN"],
        "MongoDbDatabase": "app",
        "JwtSecretArn": VALID["JWT_SECRET_ARN"],
        "JwtJwksUrl": "",
        "JwtIssuer": VALID["JWT_ISSUER"],
        "JwtAudience": "",
        "JwtMaxLifetimeSeconds": "0",
        "CorsAllowOrigins": "",
        "ThrottleRateLimit": "100",
        "ThrottleBurstLimit": "200",
        "FunctionReservedConcurrency": "0",
        "EnableSnapStart": "false",
        "AlarmTopicArn": "",
        "PermissionsBoundaryArn": "",
        "SecretsKmsKeyArn": "",
        "DatabaseConnectionLimit": "0",
        "AccountConcurrency": "1000",
        "EnableTracing": "false",
        "SmokeTokenSecretArn": "",
    }


def test_with_the_bootstraps_role_every_role_gets_the_stacks_boundary():
    environ = {
        **VALID,
        "CLOUDFORMATION_ROLE_ARN": "arn:aws:iam::123456789012:role/bootstrap-DevCloudFormationRole-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    assert deploy.parameter_overrides("dev", environ=environ)["PermissionsBoundaryArn"] == (
        "arn:aws:iam::123456789012:policy/bare-api-dev-eu-west-1-boundary"
    )


def test_the_bootstraps_role_without_a_region_is_refused_with_the_variable_to_set():
    environ = {**VALID, "CLOUDFORMATION_ROLE_ARN": "arn:aws:iam::123456789012:role/bootstrap-DevCloudFormationRole-1"}
    with pytest.raises(deploy.DeployError, match=r"^CLOUDFORMATION_ROLE_ARN is set but no region: export AWS_DEFAULT"):
        deploy.parameter_overrides("dev", environ=environ)


def test_a_cloudformation_role_that_is_no_role_arn_is_refused():
    with pytest.raises(deploy.DeployError, match=r"^CLOUDFORMATION_ROLE_ARN='bare-api' is not an IAM role ARN"):
        deploy.parameter_overrides("dev", environ={**VALID, "CLOUDFORMATION_ROLE_ARN": "bare-api"})


def test_a_secret_the_boundary_does_not_cover_is_refused():
    environ = {
        **VALID,
        "CLOUDFORMATION_ROLE_ARN": "arn:aws:iam::123456789012:role/cfn",
        "AWS_REGION": "eu-west-1",
        "MONGODB_URI_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/mongodb-AbCdEf",
    }
    with pytest.raises(deploy.DeployError, match=r"^MONGODB_URI_SECRET_ARN names a secret outside bare-api/dev/"):
        deploy.parameter_overrides("dev", environ=environ)


def test_an_empty_variable_sends_the_template_default_not_the_previous_value():
    overrides = deploy.parameter_overrides("dev", environ={**VALID, "MONGODB_DATABASE": " ", "JWT_AUDIENCE": ""})
    assert (overrides["MongoDbDatabase"], overrides["JwtAudience"]) == ("app", "")


def test_a_value_the_sam_cli_cannot_carry_is_refused_with_the_fix():
    with pytest.raises(
        deploy.DeployError,
        match=r"^parameter JwtAudience: the SAM CLI cannot pass a value that ends "
        r"with a backslash",
    ):
        deploy.override_argument("JwtAudience", "api\\")


def test_the_api_url_comes_from_the_stack_outputs(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    body = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"ApiUrl": {"Value": "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/dev"}},
    }
    with mock_aws():
        client = boto3.client("cloudformation")
        client.create_stack(StackName="bare-api-dev", TemplateBody=json.dumps(body))
        assert deploy.api_url(client, "bare-api-dev") == "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/dev"


caller = Router("caller")  # the route behind the authorizer that the smoke test calls


@caller.get("/me")
def read_caller(request):
    return json_response({"sub": request.principal.sub})


class StageOnLoopback(BaseHTTPRequestHandler):
    """The stage's two smoke-tested routes, answered by the real health handler and a router from REST API events."""

    functions = {"/dev/health": health.lambda_handler, "/dev/me": caller.dispatch}

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
    assert deploy.smoke(stage_url, "/me", attempts=1) == []


def test_the_smoke_test_reports_a_stage_that_answers_wrongly(stage_url):
    assert deploy.smoke(stage_url.removesuffix("/dev") + "/prod", "/me", attempts=2, pause_seconds=0.01) == [
        "GET /health answered 403, expected 200",
        "GET /me answered 403, expected 401",
    ]


def test_the_bootstrap_bucket_and_role_are_used_when_given():
    assert deploy.bootstrap_options({}) == ["--resolve-s3"]
    assert deploy.bootstrap_options(
        {"ARTIFACT_BUCKET": "bare-api-artifacts-1a2b", "CLOUDFORMATION_ROLE_ARN": "arn:aws:iam::123456789012:role/cfn"}
    ) == ["--s3-bucket", "bare-api-artifacts-1a2b", "--role-arn", "arn:aws:iam::123456789012:role/cfn"]


# The command line `make deploy` runs, parsed by the pinned SAM CLI's own code (tools/checks/samcli.py).

JWKS = {**VALID, "JWT_SECRET_ARN": "", "JWT_JWKS_URL": "https://idp.example.com/.well-known/jwks.json"}


@pytest.fixture(scope="session")
def sam_deploy():
    """``sam_deploy(arguments)``: what ``sam deploy <arguments>`` would run with, as the pinned SAM CLI parses it.

    ``{"options": {option: value}, "changeset_parameters": [...]}``: the parsed options (samconfig.toml applied)
    and the ``Parameters`` the SAM CLI would send to CloudFormation's CreateChangeSet for the template.
    """
    from tools.checks import samcli

    python = samcli.python()  # the first run installs the pinned SAM CLI into .local/samcli

    def parse(arguments: list[str]) -> dict:
        # -I: tools/checks must not be on sys.path, where samcli.py and cfnlint.py would hide the real packages.
        result = subprocess.run(
            [str(python), "-I", str(samcli.PARSER)],
            input=json.dumps(arguments),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert result.returncode == 0, f"the SAM CLI refused the command line: {result.stderr[-2000:]}"
        return json.loads(result.stdout)

    return parse


def sam_parsed(sam_deploy, environ: dict, environment: str = "dev") -> dict:
    overrides = deploy.parameter_overrides(environment, environ=environ)
    overrides.update(sam.function_revisions(samtemplate.load(), overrides, sam.example_code(samtemplate.load())))
    return sam_deploy(deploy.deploy_arguments(environment, "eu-west-1", overrides, environ))


def test_switching_from_a_secret_to_a_jwks_url_sends_the_secret_arn_empty(sam_deploy):
    parsed = sam_parsed(sam_deploy, JWKS)
    overrides = parsed["options"]["parameter_overrides"]
    assert (overrides.get("JwtSecretArn"), overrides.get("JwtJwksUrl")) == ("", JWKS["JWT_JWKS_URL"])


def test_no_parameter_keeps_its_previous_value(sam_deploy):
    parsed = sam_parsed(sam_deploy, VALID)
    reused = [
        parameter["ParameterKey"] for parameter in parsed["changeset_parameters"] if parameter.get("UsePreviousValue")
    ]
    assert reused == []


# JwtAudience takes any printable ASCII text (the settings refuse control characters such as line breaks).
@pytest.mark.parametrize(
    "value",
    [
        "https://a.example.com, https://b.example.com",
        'say "hi"',
        "it's",
        "a=b,c=d",
        "back\\slash",
        "two  spaces",
        "backslash\\ space",
        "\\'",
    ],
)
def test_a_value_reaches_cloudformation_exactly(sam_deploy, value):
    parsed = sam_parsed(sam_deploy, {**VALID, "JWT_AUDIENCE": value})  # a parameter with no AllowedPattern
    assert parsed["options"]["parameter_overrides"]["JwtAudience"] == value


def test_every_short_value_round_trips_or_is_refused_with_the_reason(sam_deploy):
    values = ["".join(characters) for length in range(5) for characters in product("a \"'\\=,", repeat=length)]
    carried, refused = {}, []
    for index, value in enumerate(values):
        try:
            deploy.deploy_arguments("dev", "eu-west-1", {f"P{index}": value})
            carried[f"P{index}"] = value
        except deploy.DeployError as exc:
            assert "backslash" in str(exc)
            refused.append(value)
    parsed = sam_deploy(deploy.deploy_arguments("dev", "eu-west-1", carried))["options"]["parameter_overrides"]
    assert {name: parsed.get(name) for name in carried} == carried
    assert refused and all(value.endswith("\\") or '\\"' in value for value in refused)


@pytest.fixture
def zips(tmp_path):
    """A build folder with one zip per function."""
    for name in samtemplate.functions(samtemplate.load()):
        (tmp_path / f"{name}.zip").write_bytes(f"code of {name}".encode())
    return tmp_path


@pytest.mark.parametrize("function", samtemplate.functions(samtemplate.load()))
def test_a_new_zip_changes_only_its_functions_revision(zips, function):
    overrides = deploy.parameter_overrides("dev", environ=VALID)
    before = deploy.revisions(overrides, zips)
    (zips / f"{function}.zip").write_bytes(b"new code")
    after = deploy.revisions(overrides, zips)
    assert [name for name in before if before[name] != after[name]] == [f"{function}Revision"]


def test_a_new_setting_changes_the_revision_of_the_functions_that_use_it(zips):
    before = deploy.revisions(deploy.parameter_overrides("dev", environ=VALID), zips)
    after = deploy.revisions(
        deploy.parameter_overrides("dev", environ={**VALID, "JWT_ISSUER": "https://b.example/"}), zips
    )
    assert [name for name in before if before[name] != after[name]] == ["AuthorizerFunctionRevision"]
    assert deploy.revisions(deploy.parameter_overrides("dev", environ=VALID), zips) == before


# Bad input: one line on stderr that says what to do, exit status 1, never a traceback.


def run_tool(module: str, *arguments: str, environ: dict | None = None, path: str | None = None):
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        AWS_CONFIG_FILE="/nonexistent",
        AWS_EC2_METADATA_DISABLED="true",
        PATH=path or environment["PATH"],
        **(environ or {}),
    )
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", module, *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def one_line(result) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    (line,) = result.stderr.strip().splitlines()
    return line


def test_make_deploy_without_env_says_how_to_pass_it():
    result = subprocess.run(MAKE_DEPLOY, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "deploy: no environment given: use one of dev, prod (make deploy ENV=dev)" in result.stderr


def test_a_bad_value_is_refused_before_anything_else_is_needed():
    line = one_line(
        run_tool(
            "tools.deploy",
            "deploy",
            "--env",
            "dev",
            path="/usr/bin:/bin",
            environ={**VALID, "MONGODB_URI_SECRET_ARN": "mongodb://localhost/"},
        )
    )
    assert line.startswith("deploy: parameter MongoDbUriSecretArn='mongodb://localhost/' does not match")


@pytest.mark.parametrize("value", ["an hour", "-1", "2592001", "3600.0"])
def test_a_lifetime_the_settings_would_refuse_is_refused_before_anything_else(value):
    line = one_line(
        run_tool(
            "tools.deploy",
            "deploy",
            "--env",
            "dev",
            path="/usr/bin:/bin",
            environ={**VALID, "JWT_MAX_LIFETIME_SECONDS": value},
        )
    )
    assert line.startswith(f"deploy: parameter JwtMaxLifetimeSeconds={value!r} does not match its AllowedPattern")


def test_make_deploy_without_credentials_says_how_to_log_in(sam_deploy):
    path = f"{ROOT / '.local' / 'samcli' / 'bin'}:/usr/bin:/bin"  # the pinned SAM CLI, no credentials anywhere
    line = one_line(run_tool("tools.deploy", "deploy", "--env", "dev", environ=VALID, path=path))
    assert line.startswith("deploy: no AWS credentials: run `aws sso login` or `aws configure`")


def test_the_smoke_test_without_credentials_says_how_to_log_in():
    line = one_line(run_tool("tools.deploy", "smoke", "--env", "dev"))
    assert line.startswith("deploy: no AWS credentials: run `aws sso login` or `aws configure`")


def test_the_smoke_test_without_a_region_says_how_to_set_it():
    line = one_line(
        run_tool(
            "tools.deploy",
            "smoke",
            "--env",
            "dev",
            environ={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example"},
        )
    )
    assert line.startswith("deploy: no AWS region: export AWS_DEFAULT_REGION")


def test_the_smoke_test_of_a_stack_that_does_not_exist_says_to_deploy_first(monkeypatch, capsys):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        assert deploy.main(["smoke", "--env", "dev"]) == 1
    assert capsys.readouterr().err == (
        "deploy: stack bare-api-dev does not exist in eu-west-1: deploy it first (make deploy ENV=dev)\n"
    )


def test_the_smoke_test_of_a_stage_nobody_answers_reports_it():
    assert deploy.smoke("http://127.0.0.1:9/dev", "/me", attempts=1) == [
        "GET /health failed ([Errno 111] Connection refused), expected 200",
        "GET /me failed ([Errno 111] Connection refused), expected 401",
    ]


# The smoke test with a valid token: proves the live authorizer accepts what the identity provider issues


class StageWithAuthorizer(StageOnLoopback):
    """The stage as API Gateway runs it: no Authorization is a 401, else the authorizer decides, then /me runs."""

    def do_GET(self):
        import authorizer

        if self.path != "/dev/me" or "Authorization" not in self.headers:
            return super().do_GET()
        event = {
            "type": "TOKEN",
            "authorizationToken": self.headers["Authorization"],
            "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/dev/GET/me",
        }
        try:
            answer = authorizer.lambda_handler(event, None)
        except authorizer.Unauthorized:
            result = {"statusCode": 401, "body": '{"message":"Unauthorized"}'}
        else:
            context = {"principalId": answer["principalId"], **answer["context"]}
            result = caller.dispatch(rest_event("GET", "/me", authorizer=context), None)
        self.send_response(result["statusCode"])
        self.end_headers()
        self.wfile.write((result.get("body") or "").encode())


@pytest.fixture
def stage_with_authorizer_url(configure):
    configure()
    server = ThreadingHTTPServer(("127.0.0.1", 0), StageWithAuthorizer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/dev"
    server.shutdown()
    server.server_close()


def test_the_smoke_test_with_a_valid_token_passes_when_the_authorizer_accepts_it(stage_with_authorizer_url):
    from tests.tokenkit import claims, sign

    assert deploy.smoke(stage_with_authorizer_url, "/me", attempts=1, token=sign(claims(sub="smoke-test"))) == []


def test_the_smoke_test_fails_when_the_authorizer_refuses_a_valid_token(stage_with_authorizer_url):
    from tests.tokenkit import claims, sign

    token = sign(claims(sub="smoke-test", iss="https://another-issuer.example.com/"))  # as a bad JwtIssuer does
    assert deploy.smoke(stage_with_authorizer_url, "/me", attempts=1, token=f"Bearer {token}") == [
        "GET /me with the smoke token answered 401, expected 200"
    ]


def test_the_smoke_test_without_a_token_checks_only_health_and_the_401(stage_url):
    assert deploy.smoke(stage_url, "/me", attempts=1, token="") == []


def test_an_api_without_a_guarded_route_is_smoke_tested_on_health_alone(stage_url):
    assert deploy.smoke(stage_url, "", attempts=1, token="a-token") == []


def test_the_smoke_test_calls_the_guarded_route_make_verify_checks(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n"
        "  NotesFunction:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Handler: handlers.notes.lambda_handler\n"
        "      Events:\n"
        "        ListNotes: {Type: Api, Properties: {Path: /notes, Method: GET}}\n"
        '        ReadNote: {Type: Api, Properties: {Path: "/notes/{note_id}", Method: GET}}\n'
        "        Health: {Type: Api, Properties: {Path: /health, Method: GET, Auth: {Authorizer: NONE}}}\n"
    )
    assert deploy.smoked_route(template) == "/notes"
    template.write_text(template.read_text().replace("Path: /notes, Method: GET", "Path: /notes, Method: POST"))
    assert deploy.smoked_route(template) == ""


def test_old_versions_no_alias_routes_to_are_pruned_after_a_deploy(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        iam, functions = boto3.client("iam"), boto3.client("lambda")
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        template = {
            "Resources": {
                "Fn": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "FunctionName": "bare-api-prod-MeFunction-A1",
                        "Runtime": "python3.12",
                        "Handler": "x.handler",
                        "Role": role,
                        "Code": {"ZipFile": "def handler(event, context): return 1"},
                    },
                }
            }
        }
        boto3.client("cloudformation").create_stack(StackName="bare-api-prod", TemplateBody=json.dumps(template))
        for number in range(6):
            code = io.BytesIO()
            with zipfile.ZipFile(code, "w") as archive:
                archive.writestr("x.py", f"def handler(event, context): return {number}")
            functions.update_function_code(FunctionName="bare-api-prod-MeFunction-A1", ZipFile=code.getvalue())
            functions.publish_version(FunctionName="bare-api-prod-MeFunction-A1")
        functions.create_alias(
            FunctionName="bare-api-prod-MeFunction-A1",
            Name="live",
            FunctionVersion="2",
            RoutingConfig={"AdditionalVersionWeights": {"3": 0.1}},
        )
        pruned = deploy.prune_versions(boto3.client("cloudformation"), functions, "bare-api-prod")
        left = [
            version["Version"]
            for version in functions.list_versions_by_function(FunctionName="bare-api-prod-MeFunction-A1")["Versions"]
        ]
    assert sorted(name.rpartition(":")[2] for name in pruned) == ["1", "4"]
    assert left == ["$LATEST", "2", "3", "5", "6"]


@pytest.mark.parametrize("allowed", ["", "true"])
def test_a_new_jwt_issuer_on_the_http_api_needs_an_explicit_go_ahead(monkeypatch, allowed):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    template = {"Parameters": {"JwtIssuer": {"Type": "String"}}, "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    with mock_aws():
        client = boto3.client("cloudformation")
        client.create_stack(
            StackName="bare-api-prod",
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": "JwtIssuer", "ParameterValue": "https://old.example.com/"}],
        )
        deploy.check_jwt_change(client, "bare-api-prod", {"JwtIssuer": "https://old.example.com/"}, {})
        change = {"JwtIssuer": "https://new.example.com/"}
        if allowed:
            deploy.check_jwt_change(client, "bare-api-prod", change, {"ALLOW_JWT_CHANGE": allowed})
            return
        with pytest.raises(
            deploy.DeployError,
            match=r"^JwtIssuer changes from 'https://old.example.com/' to "
            r"'https://new.example.com/': the HTTP API's JWT authorizer",
        ):
            deploy.check_jwt_change(client, "bare-api-prod", change, {})
