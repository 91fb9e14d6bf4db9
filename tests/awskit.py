"""A real local AWS endpoint for the tests: moto's server on loopback, and the function's view of it.

``aws`` gives each test a fresh server state and the environment a deployed
function has: credentials, region and ``AWS_ENDPOINT_URL`` pointing at the
server, and none of this machine's CA variables. ``seed`` is a boto3 client of
the same server (boto3 is the tests' oracle, never the code's).
"""

from __future__ import annotations

import json

import boto3
import pytest

from shared import secrets
from tools import localaws, loopback

REGION = "eu-west-1"
ACCOUNT = "123456789012"
# Variables this machine may export that change how a process trusts TLS or finds AWS.
OUTSIDE_VARIABLES = (
    "AWS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
)


@pytest.fixture(scope="session")
def aws_server(tmp_path_factory):
    log = open(tmp_path_factory.mktemp("localaws") / "moto.log", "wb")  # noqa: SIM115 -- closed below
    server = localaws.start(loopback.free_port(), log_file=log)
    yield server
    localaws.stop(server)
    log.close()


@pytest.fixture
def aws(aws_server, monkeypatch):
    """The server's URL, fresh; the process environment is a function's, pointed at it."""
    localaws.reset(aws_server.url)
    for name in OUTSIDE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_server.url)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    secrets.forget()
    yield aws_server.url
    secrets.forget()
    localaws.reset(aws_server.url)


def seed(service: str, url: str):
    """A boto3 client of the local server, for putting secrets in place (the test's side, not the function's)."""
    return boto3.client(
        service, endpoint_url=url, region_name=REGION, aws_access_key_id="seed", aws_secret_access_key="seed"
    )


def create_secret(url: str, name: str, value: str) -> str:
    """A Secrets Manager secret holding ``value``; its ARN."""
    return seed("secretsmanager", url).create_secret(Name=name, SecretString=value)["ARN"]


def function_role(url: str, actions: list[str]) -> dict:
    """Temporary credentials of a role allowed ``actions``, as Lambda hands them to a function."""
    iam = seed("iam", url)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="function", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    iam.put_role_policy(RoleName="function", PolicyName="secrets", PolicyDocument=json.dumps(policy))
    return seed("sts", url).assume_role(RoleArn=role["Arn"], RoleSessionName="function")["Credentials"]


@pytest.fixture(scope="session")
def aws_tls_server(tmp_path_factory):
    """moto's server over HTTPS with a certificate of a CA made for this session; the server and the CA file."""
    from tools import localtls

    folder = tmp_path_factory.mktemp("localaws-tls")
    files = localtls.generate(folder)
    log = open(folder / "moto.log", "wb")  # noqa: SIM115 -- closed below
    server = localaws.start(loopback.free_port(), tls=(files.cert_file, files.key_file), log_file=log)
    yield server, files.ca_file
    localaws.stop(server)
    log.close()
