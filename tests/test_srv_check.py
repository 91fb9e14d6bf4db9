"""make deploy warns, and only warns, when the database secret holds a mongodb+srv:// URI (moto's in-process AWS)."""

import io

import boto3
import pytest
from moto import mock_aws

from tools import srv_check

REGION = "eu-west-1"


@pytest.fixture
def session(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_CA_BUNDLE", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


def test_an_srv_uri_in_secrets_manager_is_warned_about(session):
    arn = session.client("secretsmanager").create_secret(
        Name="db", SecretString="mongodb+srv://app:pw@cluster0.ab1cd.mongodb.net/?retryWrites=true"
    )["ARN"]
    stream = io.StringIO()
    srv_check.warn_if_srv(arn, stream, session)
    assert stream.getvalue().startswith("deploy: warning: the MONGODB_URI secret holds a mongodb+srv:// URI")
    assert "app:pw" not in stream.getvalue()  # never the secret itself


def test_an_srv_uri_in_ssm_is_warned_about(session):
    session.client("ssm").put_parameter(Name="/app/db", Value="MONGODB+SRV://c.example.net/", Type="SecureString")
    assert srv_check.srv_warning(f"arn:aws:ssm:{REGION}:123456789012:parameter/app/db", session) == srv_check.WARNING


def test_a_standard_uri_gives_no_warning(session):
    arn = session.client("secretsmanager").create_secret(
        Name="db", SecretString="mongodb://a.example.net,b.example.net/?tls=true&replicaSet=atlas-x"
    )["ARN"]
    assert srv_check.srv_warning(arn, session) is None


def test_a_secret_that_cannot_be_read_gives_no_warning_and_no_failure(session):
    assert srv_check.srv_warning(f"arn:aws:secretsmanager:{REGION}:123456789012:secret:absent", session) is None
    assert srv_check.srv_warning("", session) is None
