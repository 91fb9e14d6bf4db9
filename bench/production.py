"""The production configuration of a benchmark run: functions set up as the template sets them up on AWS.

On AWS every function gets its secrets as references, fetched over HTTPS, and
reaches the database over TLS. Here, for one run:

- a CA and a loopback certificate made for the run (:mod:`tools.localtls`);
- the run's database server with a TLS listener next to its plain one;
- moto's server over HTTPS as Secrets Manager and SSM, checking every
  request's signature against the temporary credentials of a function role;
- a delaying TCP proxy in front of each (``delay`` per direction), so that a
  cold start's network waits take time as they do on a real network, and so
  that the proxies can date each cold start's network phases.

The functions run with ``STAGE=dev``, ``MONGODB_URI`` and ``JWT_SECRET`` as
Secrets Manager ARNs (``MONGODB_URI`` as an SSM ARN in a variant), an issuer
and audience, ``AWS_ENDPOINT_URL`` and ``AWS_CA_BUNDLE`` pointing at the
endpoint and its CA, and the MongoDB URI verifying the server against the same
CA (``tlsCAFile``).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.netdelay import DOWN, UP, DelayProxy
from tools import localaws, localdb, localtls, loopback

REGION = "eu-west-1"
ISSUER = "https://auth.example.com/"
AUDIENCE = "bare-api"
JWT_SECRET = "production-signing-secret-of-the-benchmark-run-0123456789"


@dataclass
class World:
    """What the production subjects run against, and the proxies that watch their network."""

    database_uri: str  # the TLS URI through the database proxy, as the secret holds it
    arns: dict[str, str]  # the secrets' ARNs: database, database_ssm, jwt
    role: dict  # the function role's temporary credentials
    endpoint: str  # the AWS endpoint, through its proxy
    ca_file: Path
    database_proxy: DelayProxy
    aws_proxy: DelayProxy
    delay_ms: float

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """A function's environment: ``base`` (the run's) as a deployed stage sets it, MONGODB_URI a secret."""
        return function_environment(base, self.arns, self.role, self.endpoint, self.ca_file)

    def ssm_env(self, base: dict[str, str]) -> dict[str, str]:
        """The same, with MONGODB_URI as an SSM SecureString's ARN."""
        return {**self.env(base), "MONGODB_URI": self.arns["database_ssm"]}

    def floor_env(self, base: dict[str, str]) -> dict[str, str]:
        """The floor's: the TLS URI itself, the same CA."""
        return {**self.env(base), "MONGODB_URI": self.database_uri}

    def reset_proxies(self) -> None:
        self.database_proxy.reset()
        self.aws_proxy.reset()

    def phases(self, spawned_ns: int) -> dict[str, float]:
        """The last cold start's network phases, in ms after its spawn, as the proxies saw them."""
        return {**secret_phase(self.aws_proxy, spawned_ns), **database_phases(self.database_proxy, spawned_ns)}


def _ms(ns: int, spawned_ns: int) -> float:
    return round((ns - spawned_ns) / 1e6, 3)


def secret_phase(proxy: DelayProxy, spawned_ns: int) -> dict[str, float]:
    """From the first connection to the secret endpoint to the last byte of its answer."""
    answers = [chunk.arrived_ns for chunk in proxy.chunks if chunk.direction == DOWN]
    if not proxy.accepted_ns or not answers:
        return {}
    return {
        "secret_start": _ms(proxy.accepted_ns[0], spawned_ns),
        "secret_end": _ms(max(answers) + int(proxy.delay * 1e9), spawned_ns),
    }


def database_phases(proxy: DelayProxy, spawned_ns: int) -> dict[str, float]:
    """Connecting (first connection to the last request before the first query) and the first query.

    The first connection is the driver's monitor; the first query is the last
    request sent on another connection, and its answer.
    """
    pooled = [chunk for chunk in proxy.chunks if chunk.connection > 0]
    requests = [chunk for chunk in pooled if chunk.direction == UP]
    if not proxy.accepted_ns or not requests:
        return {}
    query = requests[-1]
    answers = [
        chunk
        for chunk in pooled
        if chunk.direction == DOWN and chunk.connection == query.connection and chunk.arrived_ns > query.arrived_ns
    ]
    delay_ns = int(proxy.delay * 1e9)
    phases = {"db_start": _ms(proxy.accepted_ns[0], spawned_ns), "query_start": _ms(query.arrived_ns, spawned_ns)}
    if answers:
        phases["query_end"] = _ms(answers[0].arrived_ns + delay_ns, spawned_ns)
    return phases


def _function_role(url: str, ca_file: Path) -> dict:
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=url,
        region_name=REGION,
        verify=str(ca_file),
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="bench-function", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameter"], "Resource": "*"}
        ],
    }
    iam.put_role_policy(RoleName="bench-function", PolicyName="secrets", PolicyDocument=json.dumps(policy))
    sts = boto3.client(
        "sts",
        endpoint_url=url,
        region_name=REGION,
        verify=str(ca_file),
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )
    return sts.assume_role(RoleArn=role["Arn"], RoleSessionName="bench", DurationSeconds=43200)["Credentials"]


def _seed_secrets(url: str, ca_file: Path, database_uri: str) -> dict[str, str]:
    import boto3

    options = {
        "endpoint_url": url,
        "region_name": REGION,
        "verify": str(ca_file),
        "aws_access_key_id": "setup",
        "aws_secret_access_key": "setup",
    }
    manager = boto3.client("secretsmanager", **options)
    ssm = boto3.client("ssm", **options)
    ssm.put_parameter(Name="/bench/mongodb-uri", Value=database_uri, Type="SecureString")
    account = boto3.client("sts", **options).get_caller_identity()["Account"]
    return {
        "database": manager.create_secret(Name="bench/mongodb-uri", SecretString=database_uri)["ARN"],
        "database_ssm": f"arn:aws:ssm:{REGION}:{account}:parameter/bench/mongodb-uri",
        "jwt": manager.create_secret(Name="bench/jwt-secret", SecretString=JWT_SECRET)["ARN"],
    }


def function_environment(
    base: dict[str, str], arns: dict[str, str], role: dict, endpoint: str, ca_file: Path
) -> dict[str, str]:
    """``base`` (the run's function environment) as a deployed stage sets it: references, credentials, endpoint."""
    return {
        **base,
        "STAGE": "dev",
        "MONGODB_URI": arns["database"],
        "JWT_SECRET": arns["jwt"],
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": role["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": role["SecretAccessKey"],
        "AWS_SESSION_TOKEN": role["SessionToken"],
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CA_BUNDLE": str(ca_file),
    }


@contextmanager
def world(delay_ms: float) -> Iterator[tuple[World, str]]:
    """The production world, and a plain URI of its database server (the run's database)."""
    with tempfile.TemporaryDirectory(prefix="bench-production-") as folder:
        files = localtls.generate(Path(folder) / "tls")
        port, tls_port = loopback.free_port(), loopback.free_port()
        database = localdb.start(
            port, Path(folder) / "data", tls=localdb.TLSListener(tls_port, files.cert_file, files.key_file)
        )
        aws = localaws.start(loopback.free_port(), tls=(files.cert_file, files.key_file))
        database_proxy = DelayProxy(tls_port, delay_ms / 1000)
        aws_proxy = DelayProxy(urlsplit(aws.url).port, delay_ms / 1000)
        try:
            tls_uri = (
                f"mongodb://127.0.0.1:{database_proxy.port}/?tls=true&tlsCAFile={files.ca_file}&directConnection=true"
            )
            arns = _seed_secrets(aws.url, files.ca_file, tls_uri)
            role = _function_role(aws.url, files.ca_file)
            localaws.require_signatures(aws.url, files.ca_file)
            yield (
                World(
                    tls_uri,
                    arns,
                    role,
                    f"https://127.0.0.1:{aws_proxy.port}",
                    files.ca_file,
                    database_proxy,
                    aws_proxy,
                    delay_ms,
                ),
                f"mongodb://127.0.0.1:{port}/",
            )
        finally:
            database_proxy.close()
            aws_proxy.close()
            localaws.stop(aws)
            localdb.stop(database)


def authorizer_token(now: float | None = None) -> str:
    """A token the production authorizer accepts: HS256 with the run's secret, its issuer and audience."""
    import jwt

    issued = int(now or time.time())
    claims = {
        "sub": "alice",
        "email": "alice@example.com",
        "name": "Alice Liddell",
        "scope": "profile:read",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": issued,
        "exp": issued + 12 * 3600,
    }
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")
