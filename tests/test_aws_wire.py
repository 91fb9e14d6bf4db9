"""The functions' AWS client against servers that misbehave: slow, malformed, or handing out unsafe values.

Every failure here must end as the typed error (a SecretError, a 503 on a
handler) within the client's deadline, never as a raw exception.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from shared import aws as awsapi
from shared import httpclient, secrets
from tests.apigw import parsed, rest_authorizer, rest_event
from tests.awskit import ACCOUNT, OUTSIDE_VARIABLES, REGION
from tests.rawkit import RawServer, answer, trickle

SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db"
GOOD_ANSWER = answer(body=json.dumps({"SecretString": "the value"}).encode())
ENDPOINT_CREDENTIALS = {"AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI", "Token": "FwoGZXIvYXdzE"}
# What a call may take at most: every attempt's deadline, the pause between them, and a generous margin
# for a loaded machine (the failures this guards against took 12 s to more than a minute).
CALL_BOUND_SECONDS = awsapi.ATTEMPTS * awsapi.ATTEMPT_SECONDS + awsapi.RETRY_PAUSE_SECONDS + 2.0


@pytest.fixture
def served(monkeypatch):
    """``served(reply)``: a RawServer that the functions' client takes for AWS, in a function's environment."""
    for name in OUTSIDE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    servers = []

    def serve(reply, variable: str = "AWS_ENDPOINT_URL", path: str = "") -> RawServer:
        server = RawServer(reply)
        servers.append(server)
        monkeypatch.setenv(variable, server.url + path)
        return server

    secrets.forget()
    yield serve
    secrets.forget()
    for server in servers:
        server.close()


def use_container_credentials(monkeypatch, served, served_credentials: dict | None = None) -> RawServer:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    body = json.dumps(served_credentials or ENDPOINT_CREDENTIALS).encode()
    return served(answer(body=body), "AWS_CONTAINER_CREDENTIALS_FULL_URI", "/2021-04-23/credentials")


# One deadline per attempt: connect, headers and body together


@pytest.mark.slow  # waits out a whole attempt's deadline, twice
def test_header_lines_trickling_in_cannot_stretch_a_call_past_its_deadline(served):
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Slow-%d: 1\r\n" % number for number in range(30))
    served(trickle(head, pause=0.9, size=len(b"X-Slow-10: 1\r\n")))  # a line every 0.9 s: 27 s in all
    started = time.monotonic()
    with pytest.raises(secrets.SecretError, match="TimeoutError"):
        secrets.resolve(SECRET_ARN)
    assert time.monotonic() - started < CALL_BOUND_SECONDS


@pytest.mark.slow  # waits out a whole attempt's deadline, twice
def test_a_body_trickling_in_cannot_stretch_a_call_past_its_deadline(served):
    served(trickle(answer(body=b" " * 400), pause=0.1))  # a byte every 0.1 s: 40 s in all
    started = time.monotonic()
    with pytest.raises(secrets.SecretError, match="TimeoutError"):
        secrets.resolve(SECRET_ARN)
    assert time.monotonic() - started < CALL_BOUND_SECONDS


def test_many_small_chunks_are_decoded_in_linear_time(served):
    document = json.dumps({"SecretString": "the value"}).encode() + b" " * 150_000
    body = b"".join(b"1\r\n%s\r\n" % document[index : index + 1] for index in range(len(document))) + b"0\r\n\r\n"
    served(answer(body=body, headers=b"Transfer-Encoding: chunked\r\n"))
    started = time.monotonic()
    assert secrets.resolve(SECRET_ARN) == "the value"
    # 150k one-byte chunks took 5.6 s to decode when each one copied the body so far; linear decoding takes
    # a small fraction of a second, so 2 s is a generous bound on a loaded machine.
    assert time.monotonic() - started < 2.0


# Malformed answers: the typed error, after a retry


MALFORMED = {
    "a Content-Length that is a superscript digit": answer(headers=b"Content-Length: \xb2\r\n"),
    "a Content-Length in Arabic-Indic digits": answer(headers=b"Content-Length: \xd9\xa2\r\n"),
    "a signed Content-Length": answer(headers=b"Content-Length: +2\r\n"),
    "a status in Arabic-Indic digits": b"HTTP/1.1 \xd9\xa2\xd9\xa0\xd9\xa0 OK\r\nContent-Length: 2\r\n\r\n{}",
    "no status line": b"hello\r\n\r\n",
    "deeply nested JSON": answer(body=b"[" * 100_000),
    "deeply nested objects": answer(body=b'{"a":' * 50_000),
    "no JSON at all": answer(body=b"<html>busy</html>"),
    "JSON that is no object": answer(body=b"[]"),
    "a JSON string": answer(body=b'"the value"'),
    "a body shorter than its Content-Length": answer(headers=b"Content-Length: 50\r\n", body=b'{"SecretS'),
    "a chunk size that is no hex number": answer(
        headers=b"Transfer-Encoding: chunked\r\n", body=b"zz\r\n{}\r\n0\r\n\r\n"
    ),
    "a signed chunk size": answer(headers=b"Transfer-Encoding: chunked\r\n", body=b"+2\r\n{}\r\n0\r\n\r\n"),
    "a truncated chunk": answer(headers=b"Transfer-Encoding: chunked\r\n", body=b"20\r\n{}"),
    "chunks without their last one": answer(headers=b"Transfer-Encoding: chunked\r\n", body=b"2\r\n{}\r\n"),
}


@pytest.mark.parametrize("reply", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_answer_is_retried_then_a_secret_error(served, reply):
    server = served(reply)
    with pytest.raises(secrets.SecretError, match="MalformedAnswer"):
        secrets.resolve(SECRET_ARN)
    assert len(server.requests) == awsapi.ATTEMPTS


@pytest.mark.parametrize("body", [b"[" * 100_000, b"<<<", b"[1, 2]", b"\xff\xfe"], ids=repr)
def test_an_error_answer_with_an_unreadable_body_is_named_by_its_status(served, body):
    served(answer("400 Bad Request", body=body))
    with pytest.raises(secrets.SecretError, match="HTTP400"):
        secrets.resolve(SECRET_ARN)


def test_an_ssm_answer_whose_parameter_is_no_object_is_a_secret_error(served):
    served(answer(body=b'{"Parameter": "the value"}'))
    with pytest.raises(secrets.SecretError, match="empty or binary"):
        secrets.resolve(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/db")


def test_a_malformed_answer_for_the_database_secret_is_a_503_with_retry_after(served, environment):
    from tests.fixtures.resources import parcels

    served(answer(headers=b"Content-Length: \xb2\r\n"))
    environment(MONGODB_URI=SECRET_ARN)
    event = rest_event("GET", "/parcels", authorizer=rest_authorizer())
    status, headers, _ = parsed(parcels.lambda_handler(event, None))
    assert status == 503 and headers["retry-after"] == "1"


def test_a_well_formed_answer_still_reads(served):
    served(GOOD_ANSWER)
    assert secrets.resolve(SECRET_ARN) == "the value"


# Credentials: nothing that could become a header line of its own


@pytest.mark.parametrize(
    "token",
    ["the-token\r\nX-Injected: 1", "the-token\nX-Injected: 1", "the\rtoken", "the\x1btoken", "the\x7ftoken"],
    ids=repr,
)
def test_a_control_character_in_the_container_token_is_refused_before_any_request(served, monkeypatch, token):
    endpoint = use_container_credentials(monkeypatch, served)
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", token)
    with pytest.raises(secrets.SecretError, match="InvalidContainerAuthorizationToken"):
        secrets.resolve(SECRET_ARN)
    assert endpoint.requests == []


def test_a_control_character_in_the_container_token_file_is_refused_before_any_request(served, monkeypatch, tmp_path):
    endpoint = use_container_credentials(monkeypatch, served)
    (tmp_path / "token").write_bytes(b"the-token\r\nX-Injected: 1\n")
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(tmp_path / "token"))
    with pytest.raises(secrets.SecretError, match="InvalidContainerAuthorizationToken"):
        secrets.resolve(SECRET_ARN)
    assert endpoint.requests == []


@pytest.mark.parametrize("field", ["AccessKeyId", "SecretAccessKey", "Token"])
def test_a_control_character_in_the_endpoints_credentials_is_refused_before_calling_aws(served, monkeypatch, field):
    aws = served(GOOD_ANSWER)
    use_container_credentials(monkeypatch, served, {**ENDPOINT_CREDENTIALS, field: "FwoG\r\nX-Injected: 1"})
    with pytest.raises(secrets.SecretError, match="InvalidContainerCredentials"):
        secrets.resolve(SECRET_ARN)
    assert aws.requests == []


def test_container_credentials_without_control_characters_are_used(served, monkeypatch):
    aws = served(GOOD_ANSWER)
    endpoint = use_container_credentials(monkeypatch, served)
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "the-token")
    assert secrets.resolve(SECRET_ARN) == "the value"
    assert b"\r\nAuthorization: the-token\r\n" in endpoint.requests[0]
    assert b"\r\nX-Amz-Security-Token: FwoGZXIvYXdzE\r\n" in aws.requests[0]


# References: a region and account shaped like AWS's, checked before any connection

MALFORMED_REFERENCES = [
    f"arn:aws:secretsmanager:x@127.0.0.1#:{ACCOUNT}:secret:db",
    f"arn:aws:secretsmanager:eu-west-1.evil.example:{ACCOUNT}:secret:db",
    f"arn:aws:secretsmanager:eu-west-1/x:{ACCOUNT}:secret:db",
    f"arn:aws:ssm:eu-west-1\r\nX-Injected: 1:{ACCOUNT}:parameter/db",
    f"arn:aws:secretsmanager:EU-WEST-1:{ACCOUNT}:secret:db",
    f"arn:aws:secretsmanager::{ACCOUNT}:secret:db",
    f"arn:aws:secretsmanager:{REGION}:12345:secret:db",
    f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}@evil:secret:db",
    f"arn:aws evil:secretsmanager:{REGION}:{ACCOUNT}:secret:db",
]


@pytest.mark.parametrize("reference", MALFORMED_REFERENCES, ids=repr)
def test_a_reference_not_shaped_like_an_aws_arn_is_refused_before_any_connection(served, reference):
    server = served(GOOD_ANSWER)
    with pytest.raises(secrets.SecretError, match="malformed"):
        secrets.resolve(reference)
    assert server.requests == []


@pytest.mark.parametrize("region", ["x@127.0.0.1#", "eu-west-1\r\nX-Injected: 1", "eu-west-1.evil.example"], ids=repr)
def test_an_ssm_name_in_a_region_not_shaped_like_aws_is_refused_before_any_connection(served, monkeypatch, region):
    server = served(GOOD_ANSWER)
    monkeypatch.setenv("AWS_REGION", region)
    with pytest.raises(secrets.SecretError, match="InvalidRegion"):
        secrets.resolve("ssm:/db")
    assert server.requests == []


@pytest.mark.parametrize(
    "region", ["eu-west-1", "us-gov-west-1", "cn-northwest-1", "us-isob-east-1", "eusc-de-east-1", "ap-southeast-7"]
)
def test_every_shape_of_aws_region_is_accepted(served, region):
    served(GOOD_ANSWER)
    assert secrets.resolve(f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:db") == "the value"


# Host names: encoded as the IDNA codec encodes them, without loading it for an ASCII name

HOST_NAMES = [
    "secretsmanager.eu-west-1.amazonaws.com",
    "127.0.0.1",
    "::1",
    "localhost.",
    "Mixed-Case.Example",
    "bücher.example",
    "a..b",
    ".example",
    f"{'x' * 64}.example",
    f"example.{'x' * 64}",
    f"{'x' * 63}.example",
]


@pytest.mark.parametrize("host", HOST_NAMES, ids=repr)
def test_a_host_name_is_encoded_as_the_idna_codec_encodes_it(host):
    try:
        expected = host.encode("idna")
    except UnicodeError:
        with pytest.raises(UnicodeError):
            httpclient.encoded_host(host)
    else:
        assert httpclient.encoded_host(host) == expected


def test_an_endpoint_with_an_empty_label_is_refused_as_invalid_without_a_second_attempt(served, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://secretsmanager..example")
    started = time.monotonic()
    with pytest.raises(secrets.SecretError, match="InvalidEndpoint"):
        secrets.resolve(SECRET_ARN)
    assert time.monotonic() - started < awsapi.RETRY_PAUSE_SECONDS


def test_a_call_to_an_ascii_host_loads_no_idna_codec(served):
    served(GOOD_ANSWER)
    script = (
        "import sys\n"
        "from shared import secrets\n"
        f"assert secrets.resolve({SECRET_ARN!r}) == 'the value'\n"
        "print(sorted({'encodings.idna', 'stringprep', 'unicodedata'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=dict(os.environ), capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
