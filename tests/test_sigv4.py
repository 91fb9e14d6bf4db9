"""The hand-written SigV4 signer, byte for byte against botocore's own (the oracle, with a fixed clock)."""

import datetime
import hmac
import json

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials

from shared import sigv4

NOW = datetime.datetime(2026, 11, 26, 6, 48, 34, tzinfo=datetime.UTC)
TARGETS = {"secretsmanager": "secretsmanager.GetSecretValue", "ssm": "AmazonSSM.GetParameter"}


def botocore_signature(monkeypatch, host: str, service: str, region: str, body: bytes, credentials) -> dict:
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: NOW.replace(tzinfo=None))
    request = AWSRequest(
        method="POST",
        url=f"https://{host}/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGETS[service]},
    )
    SigV4Auth(BotocoreCredentials(*credentials), service, region).add_auth(request)
    return dict(request.headers)


@pytest.mark.parametrize(
    ("service", "region", "host", "payload", "token"),
    [
        (
            "secretsmanager",
            "eu-west-1",
            "secretsmanager.eu-west-1.amazonaws.com",
            {"SecretId": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"},
            "FwoGZXIvYXdzEBoaDO",
        ),
        ("ssm", "cn-north-1", "ssm.cn-north-1.amazonaws.com.cn", {"Name": "/app/db", "WithDecryption": True}, None),
        ("secretsmanager", "us-east-1", "127.0.0.1:4566", {"SecretId": "db with spaces/and+plus"}, "a/b+c=="),
    ],
)
def test_the_signature_is_botocores(monkeypatch, service, region, host, payload, token):
    credentials = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGETS[service]}
    ours = sigv4.sign(
        "POST",
        host,
        "/",
        headers,
        body,
        sigv4.Credentials(credentials[0], credentials[1], token or ""),
        region,
        service,
        now=NOW.timestamp(),
    )
    theirs = botocore_signature(monkeypatch, host, service, region, body, credentials)
    assert ours["Authorization"] == theirs["Authorization"]
    assert ours["X-Amz-Date"] == theirs["X-Amz-Date"] == "20261126T064834Z"
    assert ours.get("X-Amz-Security-Token") == theirs.get("X-Amz-Security-Token")


def test_the_signing_key_is_the_one_awss_guide_derives():
    # The worked example of AWS's SigV4 documentation: this secret key, 20120215, us-east-1, iam.
    key = sigv4.signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_every_header_sent_is_signed_and_values_are_trimmed(monkeypatch):
    signed = sigv4.sign(
        "POST",
        "ssm.eu-west-1.amazonaws.com",
        "/",
        {"X-Amz-Target": "  AmazonSSM.GetParameter "},
        b"{}",
        sigv4.Credentials("AKID", "secret", ""),
        "eu-west-1",
        "ssm",
        now=0,
    )
    assert "SignedHeaders=host;x-amz-date;x-amz-target," in signed["Authorization"]
    assert "X-Amz-Security-Token" not in signed


@pytest.mark.parametrize("key_bytes", [0, 1, 32, 63, 64, 65, 200])
@pytest.mark.parametrize("message", [b"", b"20261126", bytes(range(256)) * 3])
def test_hmac_sha256_is_the_standard_librarys_for_keys_shorter_and_longer_than_a_block(key_bytes, message):
    key = bytes((7 * index + 3) % 256 for index in range(key_bytes))
    assert sigv4.hmac_sha256(key, message) == hmac.digest(key, message, "sha256")
