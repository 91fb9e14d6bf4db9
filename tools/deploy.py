"""Deploy with the SAM CLI, and smoke-test a deployed stage.

    python -m tools.deploy deploy --env dev     # make deploy ENV=dev
    python -m tools.deploy smoke --env dev      # GET /health -> 200, GET /me without a token -> 401,
                                                # and with SMOKE_TOKEN set, GET /me with it -> 200

``deploy`` checks first what would make ``sam deploy`` fail late: the SAM CLI,
AWS credentials and region, and the parameters each user supplies (from the
environment variables in :data:`PARAMETER_VARIABLES`, checked against the
template's constraints). ``ARTIFACT_BUCKET`` and ``CLOUDFORMATION_ROLE_ARN``
(outputs of tools/bootstrap.yaml) choose the upload bucket and the role
CloudFormation deploys with. Then it builds the zips (``make build``), computes
each function's revision from its zip and configuration (:func:`revisions`), and
runs ``sam deploy --config-env <env>`` with a value for every parameter; it
uploads those zips as they are: there is no ``sam build`` step (see README, "Deploy").

``API`` (``rest`` or ``http``; default: samconfig.toml's ``[<env>.bare_api] api``,
else ``rest``) picks the front door (see docs/http-api.md): ``template.yaml``,
or an HTTP API template derived from it: ``template-http.yaml`` (API Gateway's
JWT authorizer) when ``JWT_JWKS_URL`` names an identity provider, else
``template-http-lambda.yaml`` (the authorizer function, for an HS256 secret).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tools import build, cli, httpapi, samtemplate, srv_check
from tools.checks import budget, imports, sam

# Template parameter <- environment variable (in CI: the GitHub environment's variables).
PARAMETER_VARIABLES = {
    "MongoDbUriSecretArn": "MONGODB_URI_SECRET_ARN",
    "MongoDbDatabase": "MONGODB_DATABASE",
    "JwtSecretArn": "JWT_SECRET_ARN",
    "JwtJwksUrl": "JWT_JWKS_URL",
    "JwtIssuer": "JWT_ISSUER",
    "JwtAudience": "JWT_AUDIENCE",
    "JwtMaxLifetimeSeconds": "JWT_MAX_LIFETIME_SECONDS",
    "CorsAllowOrigins": "CORS_ALLOW_ORIGINS",
    "AlarmTopicArn": "ALARM_TOPIC_ARN",
    "EnableSnapStart": "ENABLE_SNAPSTART",
    "SecretsKmsKeyArn": "SECRETS_KMS_KEY_ARN",
    "DatabaseConnectionLimit": "DATABASE_CONNECTION_LIMIT",
    "AccountConcurrency": "LAMBDA_ACCOUNT_CONCURRENCY",
    "EnableTracing": "ENABLE_TRACING",
    "SmokeTokenSecretArn": "SMOKE_TOKEN_SECRET_ARN",
}
# The bootstrap's outputs (see bootstrap_options); in CI, variables like PARAMETER_VARIABLES.
BOOTSTRAP_VARIABLES = ("ARTIFACT_BUCKET", "CLOUDFORMATION_ROLE_ARN")
BOUNDARY_PARAMETER = "PermissionsBoundaryArn"
ROLE_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>[0-9]{12}):role/.+")
QUOTED_CHARACTERS = re.compile(r"[ \"']")
UNCARRIED_BACKSLASHES = re.compile(r'(?<!\\)\\(?:\\\\)*(?="|\Z)')  # an odd run, then a double quote or the end
SMOKE_TIMEOUT_SECONDS = 10
SMOKE_ATTEMPTS = 6  # a new stage may answer 403/5xx for a few seconds after the deploy
# A valid token for a dedicated smoke-test user (see docs/deploy.md): proves the live authorizer accepts what
# the identity provider issues, which a 401 without a token cannot.
SMOKE_TOKEN_VARIABLE = "SMOKE_TOKEN"
# The JWT authorizer's settings, which go live with no canary (see check_jwt_change), and the variable that allows it.
JWT_PARAMETERS = ("JwtIssuer", "JwtAudience")
JWT_CHANGE_VARIABLE = "ALLOW_JWT_CHANGE"
# Versions kept per function after a deploy besides those an alias routes to: the one before, to roll back to by hand.
KEEP_VERSIONS = 2


APIS = ("rest", "http")


class DeployError(RuntimeError):
    """A deploy cannot start; the message says what to install, set or fix."""


def chosen_api(environment: str, environ=os.environ) -> str:
    """``rest`` or ``http``: the ``API`` variable, else samconfig.toml's ``[<env>.bare_api] api``, else ``rest``."""
    api = environ.get("API", "").strip().lower() or str(sam.project_settings(environment).get("api", "rest"))
    if api not in APIS:
        raise DeployError(f"API={api!r}: use rest (REST API) or http (HTTP API, API Gateway v2)")
    return api


def template_for(api: str, environ=os.environ) -> Path:
    """The template to deploy for ``api``: an HTTP API's depends on where the token keys come from."""
    if api == "rest":
        return samtemplate.TEMPLATE
    if environ.get("JWT_JWKS_URL", "").strip():
        if environ.get("JWT_SECRET_ARN", "").strip():
            raise DeployError("set JWT_SECRET_ARN or JWT_JWKS_URL, not both")
        return httpapi.TARGETS[httpapi.JWT]
    return httpapi.TARGETS[httpapi.LAMBDA]


def require_sam_cli() -> str:
    sam_cli = shutil.which("sam")
    if sam_cli is None:
        raise DeployError(
            "the AWS SAM CLI is not installed: `pip install aws-sam-cli` (or see the SAM CLI install "
            "guide), then run make deploy again"
        )
    return sam_cli


def require_credentials(session=None) -> str:
    """The region to deploy to; DeployError when there are no AWS credentials or no region."""
    import boto3

    session = session or boto3.session.Session()
    if session.get_credentials() is None:
        raise DeployError(
            "no AWS credentials: run `aws sso login` or `aws configure`, or export AWS_PROFILE "
            "(in GitHub Actions the workflow assumes its role with OpenID Connect)"
        )
    if not session.region_name:
        raise DeployError("no AWS region: export AWS_DEFAULT_REGION (for example eu-west-1) or set it in your profile")
    return session.region_name


def parameter_overrides(
    environment: str, environ=os.environ, template_path: Path = samtemplate.TEMPLATE
) -> dict[str, str]:
    """A value for every template parameter, checked like CloudFormation; DeployError naming what to set.

    Each value is the user's variable (:data:`PARAMETER_VARIABLES`) when set, else
    samconfig.toml's override, else the template's default, so that no deploy
    silently keeps a value from the previous one (the SAM CLI reuses the stack's
    previous value for any parameter it is not given). The permissions boundary
    comes from ``CLOUDFORMATION_ROLE_ARN``; the revisions come after the build.
    """
    template = samtemplate.load(template_path)
    declared = template.get("Parameters", {})
    computed = set(sam.revision_parameters(template).values())  # see revisions(), after the build
    configured = sam.parse_overrides(sam.deploy_settings(environment).get("parameter_overrides", ""))
    unknown = sorted(set(configured) - set(declared))
    if unknown:
        raise DeployError(
            f"samconfig.toml [{environment}] sets {', '.join(unknown)}, which {template_path.name} "
            f"does not declare: remove it from parameter_overrides"
        )
    values, missing = {}, []
    if BOUNDARY_PARAMETER in declared:
        values[BOUNDARY_PARAMETER] = permissions_boundary(environment, environ)
    for name, declaration in declared.items():
        if name in computed or name in values:
            continue
        variable = PARAMETER_VARIABLES.get(name)
        value = environ.get(variable, "").strip() if variable else ""
        if not value:
            value = configured.get(name, str(declaration.get("Default", "")) if "Default" in declaration else None)
        if value is None:
            missing.append(f"{variable or name} ({declaration.get('Description', name)})")
            continue
        try:
            sam.check_value(name, declaration, value)
        except sam.ParameterError as exc:
            raise DeployError(f"{exc} (from {variable or 'samconfig.toml'})") from None
        values[name] = value
    if missing:
        raise DeployError("set " + "; ".join(missing))
    if values.get(BOUNDARY_PARAMETER):
        check_secret_names(environment, values)
    return values


def check_budget(environment: str, values: dict[str, str], template: dict | None = None) -> None:
    """Print the connection budget's arithmetic for these values; DeployError when the fleet could exceed it."""
    try:
        computed = budget.budget(template or samtemplate.load(), values)
    except ValueError as exc:
        raise DeployError(f"connection budget: {exc}") from None
    for line in computed.arithmetic():
        print(f"connection budget: {line}")
    problems = budget.problems(computed, environment)
    if problems:
        raise DeployError(
            problems[0] + " (DATABASE_CONNECTION_LIMIT and LAMBDA_ACCOUNT_CONCURRENCY set the parameters)"
        )


def permissions_boundary(environment: str, environ=os.environ) -> str:
    """The bootstrap's boundary policy for the stack when CloudFormation deploys with its role; else ""."""
    role = environ.get("CLOUDFORMATION_ROLE_ARN", "").strip()
    if not role:
        return ""
    matched = ROLE_ARN.fullmatch(role)
    if matched is None:
        raise DeployError(
            f"CLOUDFORMATION_ROLE_ARN={role!r} is not an IAM role ARN: use the bootstrap stack's "
            f"{environment.title()}CloudFormationRoleArn output"
        )
    region = environ.get("AWS_REGION", "").strip() or environ.get("AWS_DEFAULT_REGION", "").strip()
    if not region:
        raise DeployError(
            "CLOUDFORMATION_ROLE_ARN is set but no region: export AWS_DEFAULT_REGION, the region the "
            "bootstrap (and its boundary policy, named after the region) was deployed in"
        )
    stack = sam.deploy_settings(environment)["stack_name"]
    name = sam.boundary_policy_name(stack, region)
    return f"arn:{matched['partition']}:iam::{matched['account']}:policy/{name}"


def check_secret_names(environment: str, values: dict[str, str]) -> None:
    """DeployError for a secret the stack's roles may not read: the bootstrap's boundary allows <prefix>/<env>/."""
    prefix = sam.deploy_settings(environment)["stack_name"].removesuffix(f"-{environment}")
    readable = (f":secret:{prefix}/{environment}/", f":parameter/{prefix}/{environment}/")
    for name, variable in PARAMETER_VARIABLES.items():
        value = values.get(name, "")
        if name.endswith("SecretArn") and value and not any(part in value for part in readable):
            raise DeployError(
                f"{variable} names a secret outside {prefix}/{environment}/, which the {environment} "
                f"stack's roles may not read (the bootstrap's permissions boundary): create it under "
                f"{prefix}/{environment}/"
            )


def bootstrap_options(environ=os.environ) -> list[str]:
    """Use the bootstrap stack's bucket and CloudFormation role when given, else a SAM-managed bucket."""
    bucket = environ.get("ARTIFACT_BUCKET", "").strip()
    options = ["--s3-bucket", bucket] if bucket else ["--resolve-s3"]
    role = environ.get("CLOUDFORMATION_ROLE_ARN", "").strip()
    return [*options, "--role-arn", role] if role else options


def deploy(environment: str, environ=os.environ) -> int:
    """Check, build, then ``sam deploy``; return its exit status. DeployError when a deploy cannot start."""
    template_path = template_for(chosen_api(environment, environ), environ)
    stale = [problem for problem in httpapi.stale() if problem.startswith(template_path.name)]
    if stale:
        raise DeployError(stale[0])
    overrides = parameter_overrides(environment, environ, template_path)  # first what needs only the checkout
    check_budget(environment, overrides, samtemplate.load(template_path))
    sam_cli = require_sam_cli()
    region = require_credentials()
    if template_path == httpapi.TARGETS[httpapi.JWT]:
        import boto3

        check_jwt_change(
            boto3.client("cloudformation", region_name=region),
            sam.deploy_settings(environment)["stack_name"],
            overrides,
            environ,
        )
    srv_check.warn_if_srv(overrides.get("MongoDbUriSecretArn", ""))
    print(f"deploying {template_path.name}")
    print(build.size_table(build.build()))
    overrides.update(revisions(overrides, template_path=template_path))
    arguments = deploy_arguments(environment, region, overrides, environ, template_path)
    status = subprocess.call([sam_cli, *arguments], cwd=samtemplate.ROOT)
    if status == 0:
        import boto3

        stack = sam.deploy_settings(environment)["stack_name"]
        pruned = prune_versions(
            boto3.client("cloudformation", region_name=region), boto3.client("lambda", region_name=region), stack
        )
        print(f"deleted {len(pruned)} old function version(s) no alias routes to")
    return status


def check_jwt_change(cloudformation, stack: str, overrides: dict[str, str], environ=os.environ) -> None:
    """DeployError when the JWT authorizer's issuer or audience would change without ``ALLOW_JWT_CHANGE=true``.

    The HTTP API's JWT authorizer is API Gateway's own: a new issuer or audience applies to every
    request as soon as the stage deploys, with no version, canary or rollback alarm in between.
    """
    from botocore.exceptions import ClientError

    if environ.get(JWT_CHANGE_VARIABLE, "").strip().lower() == "true":
        return
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return
        raise
    deployed = {item["ParameterKey"]: item.get("ParameterValue", "") for item in stacks[0].get("Parameters", [])}
    for name in JWT_PARAMETERS:
        if name in deployed and name in overrides and deployed[name] != overrides[name]:
            raise DeployError(
                f"{name} changes from {deployed[name]!r} to {overrides[name]!r}: the HTTP API's JWT "
                f"authorizer applies it to every request at once, with no canary to roll it back. Deploy "
                f"it to dev first and run make verify with a token of the new issuer, then set "
                f"{JWT_CHANGE_VARIABLE}=true for this deploy"
            )


def prune_versions(cloudformation, lambda_client, stack: str, keep: int = KEEP_VERSIONS) -> list[str]:
    """Delete the stack's function versions no alias routes to, but the newest ``keep``; return their ARNs.

    SAM retains every version it publishes (``DeletionPolicy: Retain``), and each one
    counts toward Lambda's code storage quota and, with SnapStart, is a cached snapshot
    billed per hour ("Lambda SnapStart pricing"). A version an alias routes to (its
    ``FunctionVersion`` or a weight of its ``RoutingConfig``) is never deleted.
    """
    pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack)
    functions = [
        resource["PhysicalResourceId"]
        for page in pages
        for resource in page["StackResourceSummaries"]
        if resource["ResourceType"] == "AWS::Lambda::Function"
    ]
    deleted = []
    for function in functions:
        aliases = lambda_client.list_aliases(FunctionName=function)["Aliases"]
        weights = [alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}) for alias in aliases]
        routed = {alias["FunctionVersion"] for alias in aliases} | {version for weight in weights for version in weight}
        versions = sorted(
            (
                int(version["Version"])
                for page in lambda_client.get_paginator("list_versions_by_function").paginate(FunctionName=function)
                for version in page["Versions"]
                if version["Version"] != "$LATEST"
            ),
            reverse=True,
        )
        for version in versions[keep:]:
            if str(version) not in routed:
                lambda_client.delete_function(FunctionName=function, Qualifier=str(version))
                deleted.append(f"{function}:{version}")
    return deleted


def revisions(
    overrides: dict[str, str], folder: Path = build.BUILD_DIR, template_path: Path = samtemplate.TEMPLATE
) -> dict[str, str]:
    """Each function's revision parameter: a hash of its zip in ``folder`` and of its configuration.

    A function gets a new version (and the live alias moves) exactly when its own
    code or configuration changes; see :func:`tools.checks.sam.function_revisions`.
    """
    template = samtemplate.load(template_path)
    code = {
        name: hashlib.sha256((folder / f"{name}.zip").read_bytes()).hexdigest()
        for name in samtemplate.functions(template)
    }
    return sam.function_revisions(template, overrides, code)


def deploy_arguments(
    environment: str,
    region: str,
    overrides: dict[str, str],
    environ=os.environ,
    template_path: Path = samtemplate.TEMPLATE,
) -> list[str]:
    """The arguments of ``sam deploy`` (after the ``sam`` executable) for ``environment``."""
    arguments = [
        "deploy",
        "--config-env",
        environment,
        "--template-file",
        str(template_path),
        "--region",
        region,
        "--no-progressbar",
        *bootstrap_options(environ),
        "--parameter-overrides",
    ]
    return arguments + [override_argument(name, value) for name, value in overrides.items()]


def override_argument(name: str, value: str) -> str:
    """``Name="value"``, quoted and escaped so that the SAM CLI's parser reads back exactly ``value``.

    That parser (``CfnParameterOverridesType``) ends an unquoted value at the first
    space, and unescapes only a backslash before a space or a quote; so every space
    and quote gets a backslash and other backslashes stay as they are. It has no
    way to carry an odd run of backslashes at the end or before a double quote.
    """
    if "ParameterKey=" in value:
        raise DeployError(
            f"parameter {name}: the SAM CLI reads a value containing 'ParameterKey=' as another "
            f"parameter: change the value"
        )
    if UNCARRIED_BACKSLASHES.search(value):
        raise DeployError(
            f"parameter {name}: the SAM CLI cannot pass a value that ends with a backslash or has an "
            f"odd number of backslashes before a double quote: change the value"
        )
    escaped = QUOTED_CHARACTERS.sub(lambda found: "\\" + found.group(0), value)
    return f'{name}="{escaped}"'


def api_url(client, stack: str) -> str:
    """The stack's ApiUrl output; DeployError when there is no such stack or output."""
    from botocore.exceptions import ClientError

    try:
        stacks = client.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if "does not exist" not in str(exc):
            raise
        environment = stack.rpartition("-")[2]
        raise DeployError(
            f"stack {stack} does not exist in {client.meta.region_name}: deploy it first "
            f"(make deploy ENV={environment})"
        ) from None
    for output in stacks[0].get("Outputs", []):
        if output["OutputKey"] == "ApiUrl":
            return output["OutputValue"].rstrip("/")
    raise DeployError(f"stack {stack} has no ApiUrl output")


def status_of(url: str, token: str = "") -> int | str:
    """The HTTP status ``url`` answers with (``token``, if any, sent as a bearer token), or why it answered none."""
    headers = {"User-Agent": "bare-api-smoke-test"}
    if token:
        headers["Authorization"] = token if token.lower().startswith("bearer ") else f"Bearer {token}"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=SMOKE_TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as answer:
        return answer.code
    except urllib.error.URLError as exc:
        return str(exc.reason)
    except OSError as exc:  # a timeout or a reset while reading the answer
        return str(exc) or type(exc).__name__


def smoke(
    base_url: str, guarded: str = "", attempts: int = SMOKE_ATTEMPTS, pause_seconds: float = 5.0, token: str = ""
) -> list[str]:
    """Problems found: ``/health`` must answer 200; ``guarded``, a GET path behind the authorizer (if the API
    has one), 401 without a token and 200 with ``token`` (if any)."""
    expected = {"GET /health": ("/health", "", 200)}
    if guarded:
        expected[f"GET {guarded}"] = (guarded, "", 401)
    if guarded and token:
        expected[f"GET {guarded} with the smoke token"] = (guarded, token, 200)
    problems: list[str] = []
    for attempt in range(attempts):
        got = {label: status_of(base_url + path, sent) for label, (path, sent, _) in expected.items()}
        problems = [
            f"{label} failed ({got[label]}), expected {status}"
            if isinstance(got[label], str)
            else f"{label} answered {got[label]}, expected {status}"
            for label, (_, _, status) in expected.items()
            if got[label] != status
        ]
        if not problems:
            return []
        if attempt + 1 < attempts:
            time.sleep(pause_seconds)
    return problems


def smoked_route(template_path: Path) -> str:
    """The first GET path without parameters behind the authorizer that the template routes (the one
    ``make verify`` checks too), or "" for an API that has none."""
    from tools import verify

    _, guarded = verify.routes(samtemplate.load(template_path))
    return guarded[0] if guarded else ""


def smoke_stage(environment: str) -> int:
    """Smoke-test the stage of the environment's stack; print the outcome and return the exit status."""
    import boto3

    stack = sam.deploy_settings(environment)["stack_name"]
    region = require_credentials()
    url = api_url(boto3.client("cloudformation", region_name=region), stack)
    token = os.environ.get(SMOKE_TOKEN_VARIABLE, "").strip()
    if not token:
        print(f"smoke test: no {SMOKE_TOKEN_VARIABLE}, so no request with a valid token (see docs/deploy.md)")
    guarded = smoked_route(template_for(chosen_api(environment)))
    problems = smoke(url, guarded, token=token)
    for problem in problems:
        print(f"smoke test: {problem}", file=sys.stderr)
    print(f"smoke test of {url}: {'failed' if problems else 'ok'}")
    return 1 if problems else 0


def aws_failure(exc: Exception) -> str:
    """One line for an AWS call that failed: what AWS said, and what to check."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return (
            f"AWS refused {exc.operation_name} ({error.get('Code')}: {error.get('Message')}): check the role's "
            f"permissions and the region"
        )
    return f"the AWS call failed ({exc}): check the network, the credentials and the region"


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    parser = cli.Parser(prog="make deploy", description="Deploy with the SAM CLI, or smoke-test a deployed stage.")
    parser.add_argument("command", choices=["deploy", "smoke"])
    parser.add_argument("--env", required=True, help="a samconfig.toml environment: dev or prod")
    args = parser.parse_args(argv)
    try:
        return deploy(args.env) if args.command == "deploy" else smoke_stage(args.env)
    except (DeployError, sam.ParameterError, build.BuildError, imports.ImportAnalysisError) as exc:
        message = str(exc)
    except (BotoCoreError, ClientError) as exc:
        message = aws_failure(exc)
    print(f"deploy: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
