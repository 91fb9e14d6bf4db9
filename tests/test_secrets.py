"""Secret references resolved with the standard library against a real local AWS endpoint, once per container."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from shared import aws as awsapi
from shared import secrets
from tests.awskit import ACCOUNT, REGION, create_secret, function_role, seed
from tools import localaws

ABSENT = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:absent"


def test_plain_values_are_returned_as_they_are():
    assert secrets.resolve("mongodb://localhost/") == "mongodb://localhost/"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf", True),
        ("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db", True),
        ("arn:aws:ssm:eu-west-1:123456789012:parameter/app/db", True),
        ("ssm:/app/db", True),
        ("mongodb+srv://user:pw@cluster.example.net/", False),
        ("arn:aws:s3:::bucket", False),
    ],
)
def test_references_are_recognised(value, expected):
    assert secrets.is_reference(value) is expected


def test_secrets_manager_reference_is_fetched(aws):
    arn = create_secret(aws, "db", "mongodb://db/")
    assert secrets.resolve(arn) == "mongodb://db/"


def test_ssm_arn_and_name_references_are_fetched(aws):
    seed("ssm", aws).put_parameter(Name="/app/db", Value="mongodb://ssm/", Type="SecureString")
    assert secrets.resolve("ssm:/app/db") == "mongodb://ssm/"
    assert secrets.resolve(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db") == "mongodb://ssm/"


def test_secret_is_fetched_once_per_container(aws):
    arn = create_secret(aws, "db", "first")
    assert secrets.resolve(arn) == "first"
    seed("secretsmanager", aws).put_secret_value(SecretId=arn, SecretString="second")
    assert secrets.resolve(arn) == "first"
    assert secrets.refresh(arn) == "second" and secrets.resolve(arn) == "second"


def test_missing_secret_raises_secret_error_with_the_aws_error_code(aws):
    with pytest.raises(secrets.SecretError) as caught:
        secrets.resolve(ABSENT)
    assert str(caught.value) == f"could not read the secret {ABSENT}: ResourceNotFoundException"


def test_a_binary_secret_is_refused_without_showing_it(aws):
    arn = seed("secretsmanager", aws).create_secret(Name="bin", SecretBinary=b"hunter2")["ARN"]
    with pytest.raises(secrets.SecretError, match="empty or binary") as caught:
        secrets.resolve(arn)
    assert "hunter2" not in str(caught.value)


def test_an_ssm_name_needs_the_functions_region(aws, monkeypatch):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(secrets.SecretError, match="no region"):
        secrets.resolve("ssm:/app/db")


# Signed requests, checked by the endpoint against the credentials it issued


def test_a_functions_temporary_credentials_are_accepted(aws, monkeypatch):
    arn = create_secret(aws, "db", "mongodb://db/")
    role = function_role(aws, ["secretsmanager:GetSecretValue", "ssm:GetParameter"])
    localaws.require_signatures(aws)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", role["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", role["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", role["SessionToken"])
    assert secrets.resolve(arn) == "mongodb://db/"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"AWS_SECRET_ACCESS_KEY": "not-the-secret-key"}, "SignatureDoesNotMatch"),
        ({"AWS_SESSION_TOKEN": "not-the-session-token"}, "InvalidClientTokenId"),
    ],
)
def test_a_request_signed_with_wrong_credentials_is_refused(aws, monkeypatch, change, code):
    arn = create_secret(aws, "db", "mongodb://db/")
    role = function_role(aws, ["secretsmanager:GetSecretValue"])
    localaws.require_signatures(aws)
    credentials = {
        "AWS_ACCESS_KEY_ID": role["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": role["SecretAccessKey"],
        "AWS_SESSION_TOKEN": role["SessionToken"],
        **change,
    }
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(secrets.SecretError, match=code):
        secrets.resolve(arn)


def test_a_role_without_the_permission_is_refused(aws, monkeypatch):
    arn = create_secret(aws, "db", "mongodb://db/")
    role = function_role(aws, ["ssm:GetParameter"])
    localaws.require_signatures(aws)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", role["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", role["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", role["SessionToken"])
    with pytest.raises(secrets.SecretError, match="AccessDenied"):
        secrets.resolve(arn)


class CredentialsEndpoint:
    """What Lambda gives a SnapStart function instead of key variables: credentials over HTTP on loopback."""

    def __init__(self, credentials: dict, token: str) -> None:
        served = {
            "AccessKeyId": credentials["AccessKeyId"],
            "SecretAccessKey": credentials["SecretAccessKey"],
            "Token": credentials["SessionToken"],
            "Expiration": "2099-01-01T00:00:00Z",
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                allowed = self.headers.get("Authorization") == token
                body = json.dumps(served if allowed else {"message": "no"}).encode()
                self.send_response(200 if allowed else 403)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/2021-04-23/credentials"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.mark.parametrize(("sent_token", "works"), [("the-token", True), ("another-token", False)])
def test_container_credentials_are_used_when_no_keys_are_set(aws, monkeypatch, tmp_path, sent_token, works):
    arn = create_secret(aws, "db", "mongodb://db/")
    endpoint = CredentialsEndpoint(function_role(aws, ["secretsmanager:GetSecretValue"]), token="the-token")
    localaws.require_signatures(aws)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url)
    (tmp_path / "token").write_text(sent_token + "\n")
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(tmp_path / "token"))
    try:
        if works:
            assert secrets.resolve(arn) == "mongodb://db/"
        else:
            with pytest.raises(secrets.SecretError, match="CredentialsEndpointAnswered403"):
                secrets.resolve(arn)
    finally:
        endpoint.close()


def test_without_any_credentials_the_error_says_so(aws, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(secrets.SecretError, match="NoCredentials"):
        secrets.resolve(ABSENT)


# Bounded in time


def test_an_endpoint_that_never_answers_gives_up_within_two_short_attempts(aws, monkeypatch):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections (the backlog), never answers
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
    started = time.monotonic()
    try:
        with pytest.raises(secrets.SecretError, match="TimeoutError"):
            secrets.resolve(ABSENT)
    finally:
        silent.close()
    elapsed = time.monotonic() - started
    assert awsapi.ATTEMPTS * awsapi.ATTEMPT_SECONDS <= elapsed < awsapi.ATTEMPTS * awsapi.ATTEMPT_SECONDS + 1.5


def test_plain_http_is_refused_beyond_loopback(aws, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://secrets.example.com")
    with pytest.raises(secrets.SecretError, match="InvalidEndpoint"):
        secrets.resolve(ABSENT)


# Fetching in the background


def test_a_prefetched_secret_is_waited_for_and_fetched_once(aws):
    arn = create_secret(aws, "db", "first")
    secrets.prefetch(arn)
    assert secrets.wait(arn)
    seed("secretsmanager", aws).put_secret_value(SecretId=arn, SecretString="second")
    assert secrets.resolve(arn) == "first"  # the prefetched value: no second fetch


def test_a_failed_prefetch_raises_at_the_first_resolve_and_the_next_fetches_again(aws):
    secrets.prefetch(ABSENT)
    assert not secrets.wait(ABSENT)
    with pytest.raises(secrets.SecretError, match="ResourceNotFoundException"):
        secrets.resolve(ABSENT)
    seed("secretsmanager", aws).create_secret(Name="absent", SecretString="there now")
    assert secrets.resolve(ABSENT) == "there now"


def test_prefetching_a_plain_value_does_nothing():
    secrets.prefetch("mongodb://localhost/")
    assert not secrets.wait("mongodb://localhost/")


# Endpoints, as botocore finds them


@pytest.mark.parametrize(
    ("api", "region", "partition", "environ", "expected"),
    [
        (awsapi.SECRETS_MANAGER, "eu-west-1", "aws", {}, "https://secretsmanager.eu-west-1.amazonaws.com"),
        (awsapi.SSM, "cn-north-1", "aws-cn", {}, "https://ssm.cn-north-1.amazonaws.com.cn"),
        (awsapi.SSM, "cn-northwest-1", None, {}, "https://ssm.cn-northwest-1.amazonaws.com.cn"),
        (
            awsapi.SECRETS_MANAGER,
            "us-gov-west-1",
            "aws-us-gov",
            {},
            "https://secretsmanager.us-gov-west-1.amazonaws.com",
        ),
        (awsapi.SSM, "us-isob-east-1", None, {}, "https://ssm.us-isob-east-1.sc2s.sgov.gov"),
        (
            awsapi.SECRETS_MANAGER,
            "us-east-1",
            "aws",
            {"AWS_USE_FIPS_ENDPOINT": "true"},
            "https://secretsmanager-fips.us-east-1.amazonaws.com",
        ),
        (awsapi.SSM, "eu-west-1", "aws", {"AWS_USE_DUALSTACK_ENDPOINT": "true"}, "https://ssm.eu-west-1.api.aws"),
        (awsapi.SSM, "eu-west-1", "aws", {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566/"}, "http://127.0.0.1:4566"),
        (
            awsapi.SSM,
            "eu-west-1",
            "aws",
            {"AWS_ENDPOINT_URL": "https://all", "AWS_ENDPOINT_URL_SSM": "https://ssm-only"},
            "https://ssm-only",
        ),
        (
            awsapi.SECRETS_MANAGER,
            "eu-west-1",
            "aws",
            {"AWS_ENDPOINT_URL_SSM": "https://ssm-only"},
            "https://secretsmanager.eu-west-1.amazonaws.com",
        ),
        (
            awsapi.SECRETS_MANAGER,
            "eu-west-1",
            "aws",
            {"AWS_ENDPOINT_URL_SECRETS_MANAGER": "https://local", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
            "https://secretsmanager.eu-west-1.amazonaws.com",
        ),
    ],
)
def test_the_endpoint_is_the_configured_one_else_the_partitions(api, region, partition, environ, expected):
    assert awsapi.endpoint(api, region, partition, environ) == expected


def test_botocore_finds_the_same_endpoints():
    import boto3

    environ = {"AWS_USE_FIPS_ENDPOINT": "false"}
    for api, region in [
        (awsapi.SECRETS_MANAGER, "cn-north-1"),
        (awsapi.SSM, "us-gov-east-1"),
        (awsapi.SECRETS_MANAGER, "us-iso-east-1"),
        (awsapi.SSM, "eu-central-1"),
    ]:
        client = boto3.client(
            api.service, region_name=region, aws_access_key_id="k", aws_secret_access_key="s", endpoint_url=None
        )
        assert client.meta.endpoint_url == awsapi.endpoint(api, region, None, environ)


def test_credentials_never_show_their_secret_parts():
    shown = repr(awsapi.sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI", "FwoGZXIvYXdzE"))
    assert "AKIDEXAMPLE" in shown and "wJalrXUtnFEMI" not in shown and "FwoGZXIvYXdzE" not in shown


# As the functions use it


def test_database_secret_failure_is_503(aws, environment):
    from tests.apigw import parsed, rest_authorizer, rest_event
    from tests.fixtures.resources import parcels

    environment(MONGODB_URI=ABSENT)
    event = rest_event("GET", "/parcels", authorizer=rest_authorizer())
    status, headers, _ = parsed(parcels.lambda_handler(event, None))
    assert status == 503 and headers["retry-after"] == "1"


def test_database_uri_from_secrets_manager_is_used(aws, environment, mongo_uri):
    from handlers import health
    from tests.apigw import parsed, rest_event

    environment(MONGODB_URI=create_secret(aws, "db", mongo_uri))
    status, _, body = parsed(health.lambda_handler(rest_event("GET", "/health", query={"deep": "true"}), None))
    assert (status, body["database"]) == (200, "ok")


# HTTPS, verified against AWS_CA_BUNDLE as botocore does


def test_https_is_verified_against_aws_ca_bundle(aws, aws_tls_server, monkeypatch):
    server, ca_file = aws_tls_server
    localaws.reset(server.url, ca_file)
    client = boto3.client(
        "secretsmanager",
        endpoint_url=server.url,
        region_name=REGION,
        verify=str(ca_file),
        aws_access_key_id="seed",
        aws_secret_access_key="seed",
    )
    arn = client.create_secret(Name="tls", SecretString="over https")["ARN"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca_file))
    assert secrets.resolve(arn) == "over https"


def test_a_certificate_from_an_unknown_ca_is_refused(aws, aws_tls_server, monkeypatch):
    server, _ = aws_tls_server
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)  # the system's CAs do not know the run's CA
    with pytest.raises(secrets.SecretError, match="SSLCertVerificationError"):
        secrets.resolve(ABSENT)


def test_a_chunked_answer_is_read_whole(aws):
    role = function_role(aws, ["secretsmanager:GetSecretValue"])
    document = json.dumps(
        {"AccessKeyId": role["AccessKeyId"], "SecretAccessKey": role["SecretAccessKey"], "Token": role["SessionToken"]}
    ).encode()
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_chunked():
        connection, _ = listener.accept()
        connection.recv(65536)
        halves = (document[:10], document[10:])
        body = b"".join(b"%x\r\n%s\r\n" % (len(half), half) for half in halves) + b"0\r\n\r\n"
        connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        connection.close()

    threading.Thread(target=answer_chunked, daemon=True).start()
    environ = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{listener.getsockname()[1]}/credentials"}
    try:
        found = awsapi.credentials(environ)
    finally:
        listener.close()
    assert found == awsapi.sigv4.Credentials(role["AccessKeyId"], role["SecretAccessKey"], role["SessionToken"])
