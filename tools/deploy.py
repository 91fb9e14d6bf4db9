"""Deploy with the SAM CLI, and smoke-test a deployed stage.

    python -m tools.deploy deploy --env dev     # make deploy ENV=dev
    python -m tools.deploy smoke --env dev      # GET /health -> 200, GET /me without a token -> 401

``deploy`` checks first what would make ``sam deploy`` fail late: the SAM CLI,
AWS credentials and region, and the parameters each user supplies (from the
environment variables in :data:`PARAMETER_VARIABLES`, checked against the
template's constraints). ``ARTIFACT_BUCKET`` and ``CLOUDFORMATION_ROLE_ARN``
(outputs of tools/bootstrap.yaml) choose the upload bucket and the role
CloudFormation deploys with. Then it builds the zips (``make build``) and runs
``sam deploy --config-env <env>``, which uploads those zips as they are: there is
no ``sam build`` step (see README, "Deploy").
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

from tools import build, samtemplate, srv_check
from tools.checks import sam

# Template parameter <- environment variable (in CI: the GitHub environment's variables).
PARAMETER_VARIABLES = {
    "MongoDbUriSecretArn": "MONGODB_URI_SECRET_ARN",
    "MongoDbDatabase": "MONGODB_DATABASE",
    "JwtSecretArn": "JWT_SECRET_ARN",
    "JwtJwksUrl": "JWT_JWKS_URL",
    "JwtIssuer": "JWT_ISSUER",
    "JwtAudience": "JWT_AUDIENCE",
    "CorsAllowOrigins": "CORS_ALLOW_ORIGINS",
    "AlarmTopicArn": "ALARM_TOPIC_ARN",
    "EnableSnapStart": "ENABLE_SNAPSTART",
}
SMOKE_TIMEOUT_SECONDS = 10
SMOKE_ATTEMPTS = 6  # a new stage may answer 403/5xx for a few seconds after the deploy


class DeployError(RuntimeError):
    """A deploy cannot start; the message says what to install, set or fix."""


def require_sam_cli() -> str:
    sam_cli = shutil.which("sam")
    if sam_cli is None:
        raise DeployError("the AWS SAM CLI is not installed: `pip install aws-sam-cli` (or see the SAM CLI install "
                          "guide), then run make deploy again")
    return sam_cli


def require_credentials(session=None) -> str:
    """The region to deploy to; DeployError when there are no AWS credentials or no region."""
    import boto3

    session = session or boto3.session.Session()
    if session.get_credentials() is None:
        raise DeployError("no AWS credentials: run `aws sso login` or `aws configure`, or export AWS_PROFILE "
                          "(in GitHub Actions the workflow assumes its role with OpenID Connect)")
    if not session.region_name:
        raise DeployError("no AWS region: export AWS_DEFAULT_REGION (for example eu-west-1) or set it in your profile")
    return session.region_name


def parameter_overrides(environment: str, environ=os.environ) -> dict[str, str]:
    """samconfig.toml's overrides for ``environment`` plus the user's variables, checked like CloudFormation."""
    template = samtemplate.load()
    declared = template.get("Parameters", {})
    values = sam.parse_overrides(sam.deploy_settings(environment).get("parameter_overrides", ""))
    for parameter, variable in PARAMETER_VARIABLES.items():
        if environ.get(variable, "").strip():
            values[parameter] = environ[variable].strip()
    missing = [f"{PARAMETER_VARIABLES.get(name, name)} ({declaration.get('Description', name)})"
               for name, declaration in declared.items() if name not in values and "Default" not in declaration]
    if missing:
        raise DeployError("set " + "; ".join(missing))
    for name, value in values.items():
        try:
            sam.check_value(name, declared[name], value)
        except sam.ParameterError as exc:
            raise DeployError(f"{exc} (from {PARAMETER_VARIABLES.get(name, 'samconfig.toml')})") from None
    return values


def bootstrap_options(environ=os.environ) -> list[str]:
    """Use the bootstrap stack's bucket and CloudFormation role when given, else a SAM-managed bucket."""
    bucket = environ.get("ARTIFACT_BUCKET", "").strip()
    options = ["--s3-bucket", bucket] if bucket else ["--resolve-s3"]
    role = environ.get("CLOUDFORMATION_ROLE_ARN", "").strip()
    return [*options, "--role-arn", role] if role else options


def deploy(environment: str, environ=os.environ) -> int:
    """Check, build, then ``sam deploy``; return its exit status. DeployError when a deploy cannot start."""
    sam.deploy_settings(environment)
    sam_cli = require_sam_cli()
    region = require_credentials()
    overrides = parameter_overrides(environment, environ)
    srv_check.warn_if_srv(overrides.get("MongoDbUriSecretArn", ""))
    print(build.size_table(build.build()))
    command = [sam_cli, "deploy", "--config-env", environment, "--template-file", str(samtemplate.TEMPLATE),
               "--region", region, "--no-progressbar", *bootstrap_options(environ), "--parameter-overrides"]
    command += [f"{name}={value}" for name, value in overrides.items()]
    return subprocess.call(command, cwd=samtemplate.ROOT)


def api_url(client, stack: str) -> str:
    """The stack's ApiUrl output."""
    outputs = client.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    for output in outputs:
        if output["OutputKey"] == "ApiUrl":
            return output["OutputValue"].rstrip("/")
    raise DeployError(f"stack {stack} has no ApiUrl output")


def status_of(url: str) -> int:
    request = urllib.request.Request(url, headers={"User-Agent": "bare-api-smoke-test"})
    try:
        with urllib.request.urlopen(request, timeout=SMOKE_TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as answer:
        return answer.code


def smoke(base_url: str, attempts: int = SMOKE_ATTEMPTS, pause_seconds: float = 5.0) -> list[str]:
    """Problems found: ``/health`` must answer 200 and ``/me`` without a token 401."""
    expected = {"/health": 200, "/me": 401}
    problems: list[str] = []
    for attempt in range(attempts):
        got = {path: status_of(base_url + path) for path in expected}
        problems = [f"GET {path} answered {got[path]}, expected {status}" for path, status in expected.items()
                    if got[path] != status]
        if not problems:
            return []
        if attempt + 1 < attempts:
            time.sleep(pause_seconds)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Deploy with the SAM CLI, or smoke-test a deployed stage.")
    parser.add_argument("command", choices=["deploy", "smoke"])
    parser.add_argument("--env", required=True, help="a samconfig.toml environment: dev or prod")
    args = parser.parse_args(argv)
    try:
        if args.command == "deploy":
            return deploy(args.env)
        import boto3

        url = api_url(boto3.client("cloudformation"), sam.deploy_settings(args.env)["stack_name"])
        problems = smoke(url)
    except (DeployError, sam.ParameterError, build.BuildError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"smoke test: {problem}", file=sys.stderr)
    print(f"smoke test of {url}: {'failed' if problems else 'ok'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
