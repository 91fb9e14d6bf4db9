"""Secret references resolved through AWS APIs (moto's in-process AWS), once per container."""

import boto3
import pytest
from moto import mock_aws

from shared import secrets

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    secrets.resolve.cache_clear()
    with mock_aws():
        yield
    secrets.resolve.cache_clear()


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
    arn = boto3.client("secretsmanager").create_secret(Name="db", SecretString="mongodb://db/")["ARN"]
    assert secrets.resolve(arn) == "mongodb://db/"


def test_ssm_arn_and_name_references_are_fetched(aws):
    boto3.client("ssm").put_parameter(Name="/app/db", Value="mongodb://ssm/", Type="SecureString")
    assert secrets.resolve("ssm:/app/db") == "mongodb://ssm/"
    assert secrets.resolve(f"arn:aws:ssm:{REGION}:123456789012:parameter/app/db") == "mongodb://ssm/"


def test_secret_is_fetched_once_per_container(aws):
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="db", SecretString="first")["ARN"]
    assert secrets.resolve(arn) == "first"
    client.put_secret_value(SecretId=arn, SecretString="second")
    assert secrets.resolve(arn) == "first"


def test_missing_secret_raises_secret_error_without_aws_details(aws):
    with pytest.raises(secrets.SecretError) as caught:
        secrets.resolve(f"arn:aws:secretsmanager:{REGION}:123456789012:secret:absent")
    assert "ResourceNotFoundException" in str(caught.value)


def test_database_secret_failure_is_503(aws, environment):
    from handlers import me
    from tests.apigw import parsed, rest_authorizer, rest_event

    environment(MONGODB_URI=f"arn:aws:secretsmanager:{REGION}:123456789012:secret:absent")
    status, headers, _ = parsed(me.lambda_handler(rest_event("GET", "/me", authorizer=rest_authorizer()), None))
    assert status == 503 and headers["retry-after"] == "1"


def test_database_uri_from_secrets_manager_is_used(aws, environment, mongo_uri):
    from handlers import health
    from tests.apigw import parsed, rest_event

    arn = boto3.client("secretsmanager").create_secret(Name="db", SecretString=mongo_uri)["ARN"]
    environment(MONGODB_URI=arn)
    status, _, body = parsed(health.lambda_handler(rest_event("GET", "/health", query={"deep": "true"}), None))
    assert (status, body["database"]) == (200, "ok")
